// open_complete_aci() and read_aci_manifest(): an ACI in place is trusted (skipped,
// re-signed) only when it reads to its end, gzip or plain; a truncated, corrupt or
// non-regular one, or one whose first entry is not a manifest, is not.
#include "aci/inspect.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "aci/tar_writer.hpp"
#include "codec/compressor.hpp"
#include "support/helpers.hpp"

namespace d2a {
namespace {

using testing::StringWriter;
using testing::TempDir;

// An ACI of a manifest and one file, gzip or plain.
std::string make_aci(bool gzip, const std::string& name = "example.com/app") {
    StringWriter out;
    std::unique_ptr<Writer> compressor =
        make_compressor({gzip ? OutputCompression::gzip : OutputCompression::none, 6}, 1, out);
    AciTarWriter tar(*compressor);
    tar.write_manifest(R"({"acKind":"ImageManifest","acVersion":"0.8.11","name":")" + name +
                       R"("})");
    tar.write_rootfs_dir(nullptr);
    Entry e;
    e.path = "data";
    e.size = 100000;
    const std::string data(e.size, 'x');
    MemoryReader reader(data);
    tar.add(e, &reader);
    tar.finish();
    compressor->finish();
    return out.data;
}

std::filesystem::path put(const TempDir& dir, const std::string& name, const std::string& bytes) {
    const auto path = dir.path() / name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
}

TEST(OpenCompleteAci, AWholeAciGzipOrPlainIsOpenWithItsManifest) {
    TempDir dir;
    for (bool gzip : {true, false}) {
        const std::string bytes = make_aci(gzip);
        auto aci = open_complete_aci(put(dir, gzip ? "a.aci" : "plain.aci", bytes));
        ASSERT_TRUE(aci) << gzip;
        EXPECT_EQ(aci->gzip, gzip);
        EXPECT_EQ(aci->size, bytes.size());
        EXPECT_EQ(aci->manifest["name"], "example.com/app");
        auto manifest = read_aci_manifest(dir.path() / (gzip ? "a.aci" : "plain.aci"));
        ASSERT_TRUE(manifest);
        EXPECT_EQ((*manifest)["name"], "example.com/app");
    }
}

TEST(OpenCompleteAci, TruncatedOrCorruptAcisAreNot) {
    TempDir dir;
    const std::string gz = make_aci(true);
    const std::string plain = make_aci(false);
    // Cut anywhere, the gzip trailer included, and short of the tar's end.
    for (size_t cut : {gz.size() - 1, gz.size() - 8, gz.size() / 2, size_t{20}})
        EXPECT_FALSE(open_complete_aci(put(dir, "cut.aci", gz.substr(0, cut)))) << cut;
    EXPECT_FALSE(open_complete_aci(put(dir, "cut.aci", plain.substr(0, plain.size() / 2))));
    // A changed byte of the compressed data, and of the CRC.
    std::string bad = gz;
    bad[bad.size() / 2] ^= 0x20;
    EXPECT_FALSE(open_complete_aci(put(dir, "bad.aci", bad)));
    bad = gz;
    bad[bad.size() - 6] ^= 1;
    EXPECT_FALSE(open_complete_aci(put(dir, "crc.aci", bad)));
    EXPECT_FALSE(open_complete_aci(put(dir, "empty.aci", "")));
    EXPECT_FALSE(open_complete_aci(dir.path() / "missing.aci"));
}

TEST(OpenCompleteAci, ADirectoryOrFifoAtTheNameIsNotAnAci) {
    TempDir dir;
    std::filesystem::create_directory(dir.path() / "dir.aci");
    EXPECT_FALSE(open_complete_aci(dir.path() / "dir.aci"));
    ASSERT_EQ(::mkfifo((dir.path() / "fifo.aci").c_str(), 0600), 0);
    EXPECT_FALSE(open_complete_aci(dir.path() / "fifo.aci"));  // and returns: no open blocks
}

}  // namespace
}  // namespace d2a
