// publish(): an image's ACIs and signatures are all complete, and every name they take is
// made and checked, before the first rename; a failure part-way (a signer that fails on the
// second file, a name one byte too long, an ACI of another image in place) leaves the
// previous files byte for byte.
#include "publish/publish.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <map>

#include "support/helpers.hpp"
#include "util/error.hpp"

namespace d2a {
namespace {

namespace fs = std::filesystem;
using testing::error_of;

// Signs with a fixed text; fails on the call numbered `fail_on` (1-based), if any.
class FakeSigner final : public DetachedSigner {
  public:
    explicit FakeSigner(int fail_on = 0) : fail_on_(fail_on) {}
    std::string sign(Reader& data) const override {
        if (++calls_ == fail_on_) throw Error("gpg: signing failed: card removed");
        return "signature of " + read_all(data, 1 << 20, "test");
    }
    bool verifies(Reader& data, const std::string& signature) const override {
        return signature == "signature of " + read_all(data, 1 << 20, "test");
    }

  private:
    int fail_on_;
    mutable int calls_ = 0;
};

// A tar whose first entry is `manifest`: what read_aci_manifest needs of an ACI.
std::string aci_bytes(const nlohmann::json& manifest) {
    std::string out;
    archive* a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    archive_write_open(
        a, &out, nullptr,
        [](archive*, void* data, const void* buf, size_t n) -> la_ssize_t {
            static_cast<std::string*>(data)->append(static_cast<const char*>(buf), n);
            return static_cast<la_ssize_t>(n);
        },
        nullptr);
    const std::string text = manifest.dump();
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, "manifest");
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, static_cast<la_int64_t>(text.size()));
    archive_write_header(a, e);
    archive_write_data(a, text.data(), text.size());
    archive_entry_free(e);
    archive_write_close(a);
    archive_write_free(a);
    return out;
}

nlohmann::json manifest_from(const std::string& original) {
    return {{"acKind", "ImageManifest"},
            {"name", "foo/app"},
            {"annotations", nlohmann::json::array(
                                {{{"name", "appc.io/docker/originalname"}, {"value", original}}})}};
}

class PublishTest : public ::testing::Test {
  protected:
    static void write(const fs::path& path, const std::string& bytes) {
        std::ofstream(path, std::ios::binary) << bytes;
    }
    static std::string read(const fs::path& path) {
        std::ifstream in(path, std::ios::binary);
        return {std::istreambuf_iterator<char>(in), {}};
    }
    // Every file in the directory and its bytes (hidden temporary names included).
    std::map<std::string, std::string> snapshot() const {
        std::map<std::string, std::string> files;
        for (const auto& e : fs::directory_iterator(dir_.path()))
            files[e.path().filename().string()] = read(e.path());
        return files;
    }
    ConvertResult result(const std::string& file_name, const std::string& original) const {
        ConvertResult r;
        r.path = dir_.path() / file_name;
        r.manifest = manifest_from(original);
        r.file = std::make_unique<AtomicFile>(r.path);
        const std::string bytes = aci_bytes(r.manifest) + "new " + file_name;
        r.file->write(bytes.data(), bytes.size());
        return r;
    }
    testing::TempDir dir_;
};

// --nosquash: two layer ACIs and the top one, each with its signature in place. The signer
// fails on the second: every previous pair stays byte for byte, nothing else appears.
TEST_F(PublishTest, SignerFailingPartWayLeavesThePreviousPairs) {
    for (const char* name : {"app-layer0.aci", "app-layer1.aci", "app.aci"}) {
        write(dir_.path() / name, "old " + std::string(name));
        write(dir_.path() / (std::string(name) + ".asc"), "old signature of " + std::string(name));
    }
    const auto before = snapshot();
    std::vector<ConvertResult> results;
    for (const char* name : {"app-layer0.aci", "app-layer1.aci", "app.aci"})
        results.push_back(result(name, "quay.io/foo/app:1"));
    FakeSigner signer(2);
    EXPECT_EQ(error_of([&] { publish(results, &signer); }), "gpg: signing failed: card removed");
    results.clear();  // the unpublished files go with their AtomicFiles
    EXPECT_EQ(snapshot(), before);
}

// Signed: every ACI with the signature of its new bytes.
TEST_F(PublishTest, SignedPublishPutsEachPairInPlace) {
    std::vector<ConvertResult> results;
    results.push_back(result("app-layer0.aci", "quay.io/foo/app:1"));
    results.push_back(result("app.aci", "quay.io/foo/app:1"));
    FakeSigner signer;
    publish(results, &signer);
    for (const char* name : {"app-layer0.aci", "app.aci"}) {
        const std::string aci = read(dir_.path() / name);
        EXPECT_TRUE(aci.size() > 4 &&
                    aci.substr(aci.size() - 4 - std::strlen(name)) == "new " + std::string(name));
        EXPECT_EQ(read(dir_.path() / (std::string(name) + ".asc")), "signature of " + aci);
    }
    EXPECT_EQ(snapshot().size(), 4u);
}

// Unsigned over a signed pair: the stale signature goes, but only once the new ACI is in
// place; when the ACI is not replaced (another image's), the old pair stays.
TEST_F(PublishTest, StaleSignatureGoesOnlyAfterItsAciIsReplaced) {
    write(dir_.path() / "app.aci", aci_bytes(manifest_from("quay.io/foo/app:1")));
    write(dir_.path() / "app.aci.asc", "old signature");
    const auto before = snapshot();
    std::vector<ConvertResult> other;
    other.push_back(result("app.aci", "ghcr.io/foo/app:1"));
    EXPECT_EQ(error_of([&] { publish(other, nullptr); }),
              (dir_.path() / "app.aci").string() +
                  " was made from quay.io/foo/app:1; ghcr.io/foo/app:1 maps to the same file and "
                  "does not replace it (convert one of them into another directory)");
    other.clear();
    EXPECT_EQ(snapshot(), before);
    std::vector<ConvertResult> same;
    same.push_back(result("app.aci", "quay.io/foo/app:1"));
    publish(same, nullptr);
    EXPECT_FALSE(fs::exists(dir_.path() / "app.aci.asc"));
    EXPECT_EQ(snapshot().size(), 1u);
}

// Two spellings of one reference are one source; Docker Hub's short names included.
TEST_F(PublishTest, OneReferenceSpelledTwoWaysReplacesItsOwnAci) {
    write(dir_.path() / "app.aci", aci_bytes(manifest_from("foo/app:1")));
    std::vector<ConvertResult> results;
    results.push_back(result("app.aci", "docker.io/foo/app:1"));
    publish(results, nullptr);
    EXPECT_NE(read(dir_.path() / "app.aci").find("new app.aci"), std::string::npos);
    // The same repository pulled by digest is another reference: refused.
    const std::string by_digest = "docker.io/foo/app@sha256:" + std::string(64, 'a');
    FileDescriptor dir(::open(dir_.path().c_str(), O_RDONLY | O_DIRECTORY));
    EXPECT_EQ(error_of([&] { check_same_source(dir, dir_.path() / "app.aci", by_digest); }),
              (dir_.path() / "app.aci").string() + " was made from docker.io/foo/app:1; " +
                  by_digest +
                  " maps to the same file and does not replace it (convert one of them into "
                  "another directory)");
}

// File names at and around the longest a signature's name can take (NAME_MAX less ".asc"):
// either the ACI and its signature are both published, or neither is and the error says
// which name is too long.
TEST_F(PublishTest, NamesAtTheBoundaryNeverLeaveAnAciWithoutItsSignature) {
    const long name_max = ::pathconf(dir_.path().c_str(), _PC_NAME_MAX);
    ASSERT_EQ(name_max, 255);
    for (size_t length : {234u, 235u, 236u, 239u, 240u, 251u, 252u, 255u}) {
        const std::string name = std::string(length - 4, 'a') + ".aci";
        std::vector<ConvertResult> results;
        results.push_back(result(name, "quay.io/foo/app:1"));
        FakeSigner signer;
        const std::string error = error_of([&] { publish(results, &signer); });
        results.clear();
        const bool aci = fs::exists(dir_.path() / name);
        if (length + 4 <= 255) {
            EXPECT_EQ(error, "no error") << length;
            EXPECT_TRUE(aci && fs::exists(dir_.path() / (name + ".asc"))) << length;
        } else {
            EXPECT_EQ(error, (dir_.path() / (name + ".asc")).string() + ": file name too long (" +
                                 std::to_string(length + 4) + " bytes; at most 255 in " +
                                 dir_.path().string() + ")")
                << length;
            EXPECT_FALSE(aci) << length;
        }
        for (const auto& e : fs::directory_iterator(dir_.path())) fs::remove(e.path());
    }
}

}  // namespace
}  // namespace d2a
