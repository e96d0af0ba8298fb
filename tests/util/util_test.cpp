#include <gtest/gtest.h>
#include <zlib.h>

#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "image/image.hpp"
#include "util/path.hpp"
#include "source/bundle.hpp"
#include "codec/decompress.hpp"
#include "util/digest.hpp"
#include "util/error.hpp"
#include "util/file.hpp"
#include "util/prefetch.hpp"

namespace d2a {
namespace {

std::string gzip_bytes(const std::string& in) {
    z_stream zs{};
    deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
    std::string out(compressBound(in.size()) + 64, '\0');
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs.avail_in = in.size();
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = out.size();
    deflate(&zs, Z_FINISH);
    out.resize(zs.total_out);
    deflateEnd(&zs);
    return out;
}

std::string decompress(const std::string& in, uint64_t limit = 1 << 20) {
    auto r = open_decompressed(std::make_unique<MemoryReader>(in), "test", limit, 2000);
    return read_all(*r, limit * 2, "test");
}

TEST(Digest, ParseAndVerify) {
    EXPECT_TRUE(Digest::try_parse("sha256:" + std::string(64, 'a')));
    EXPECT_FALSE(Digest::try_parse("sha256:../x"));
    EXPECT_FALSE(Digest::try_parse("sha256:" + std::string(64, 'A')));
    EXPECT_FALSE(Digest::try_parse("md5:" + std::string(32, 'a')));
    EXPECT_EQ(Digest::of("abc").str(),
              "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    VerifyingReader ok(std::make_unique<MemoryReader>("abc"), Digest::of("abc"), 3, "blob");
    EXPECT_EQ(read_all(ok, 10, "x"), "abc");
    VerifyingReader bad(std::make_unique<MemoryReader>("abd"), Digest::of("abc"), std::nullopt,
                        "blob");
    EXPECT_THROW(read_all(bad, 10, "x"), Error);
    VerifyingReader short_size(std::make_unique<MemoryReader>("abc"), Digest::of("abc"), 4, "blob");
    EXPECT_THROW(read_all(short_size, 10, "x"), Error);
}

TEST(Digest, AVerifyingReaderVouchesForItsOwnDigestAndSizeOnly) {
    const Digest d = Digest::of("abc");
    VerifyingReader sized(std::make_unique<MemoryReader>("abc"), d, 3, "blob");
    EXPECT_TRUE(sized.ends_verified_as(d, 3));
    EXPECT_TRUE(sized.ends_verified_as(d, std::nullopt));
    EXPECT_FALSE(sized.ends_verified_as(Digest::of("abd"), 3));
    EXPECT_FALSE(sized.ends_verified_as(d, 4));
    VerifyingReader unsized(std::make_unique<MemoryReader>("abc"), d, std::nullopt, "blob");
    EXPECT_FALSE(unsized.ends_verified_as(d, 3));
    EXPECT_FALSE(MemoryReader("abc").ends_verified_as(d, std::nullopt));
}

// Says it checks `claimed` (and `size` bytes) before its end, and checks nothing: shows
// whom open_layer_tar trusts.
class ClaimingReader final : public Reader {
  public:
    ClaimingReader(std::string data, Digest claimed, uint64_t size)
        : data_(std::move(data)), claimed_(std::move(claimed)), size_(size) {}
    size_t read(void* buf, size_t n) override { return data_.read(buf, n); }
    [[nodiscard]] bool ends_verified_as(const Digest& digest,
                                        std::optional<uint64_t> size) const override {
        return digest == claimed_ && (!size || *size == size_);
    }

  private:
    MemoryReader data_;
    Digest claimed_;
    uint64_t size_;
};

TEST(OpenLayerTar, HashesTheBlobUnlessItsStreamChecksThatDigestAndSize) {
    const std::string stored = "layer bytes";
    const std::string other = "other bytes";  // what a stream that lied would give
    const Digest digest = Digest::of(stored);
    auto layer = [&](std::function<std::unique_ptr<Reader>()> open, Digest blob_digest,
                     uint64_t size) {
        LayerSource l;
        l.description = "layer";
        l.open_blob = std::move(open);
        l.blob_digest = std::move(blob_digest);
        l.blob_size = size;
        return l;
    };
    auto claiming = [&] { return std::make_unique<ClaimingReader>(other, digest, stored.size()); };
    auto read = [](const LayerSource& l) {
        auto r = open_layer_tar(l, Limits{});
        return read_all(*r, 1 << 10, "layer");
    };
    // Vouched for exactly: not hashed again (the lie goes through: the claim is the
    // stream's to keep).
    EXPECT_EQ(read(layer(claiming, digest, stored.size())), other);
    // Any other digest or size: hashed here.
    EXPECT_THROW(read(layer(claiming, Digest::of("a third"), stored.size())), Error);
    EXPECT_THROW(read(layer(claiming, digest, stored.size() + 1)), Error);
    // A stream that claims nothing is always hashed.
    EXPECT_THROW(read(layer([&] { return std::make_unique<MemoryReader>(other); }, digest,
                            stored.size())),
                 Error);
    EXPECT_EQ(read(layer([&] { return std::make_unique<MemoryReader>(stored); }, digest,
                         stored.size())),
              stored);
}

TEST(Decompress, DetectsByMagicAndAcceptsConcatenatedMembers) {
    EXPECT_EQ(decompress("plain"), "plain");
    EXPECT_EQ(decompress(gzip_bytes("one") + gzip_bytes("two")), "onetwo");
    EXPECT_EQ(detect_compression(std::string("\x28\xb5\x2f\xfd", 4)), Compression::zstd);
    EXPECT_EQ(detect_compression(std::string("\xfd"
                                             "7zXZ\0",
                                             6)),
              Compression::xz);
}

TEST(Decompress, RejectsTruncatedGarbageAndBombs) {
    std::string g = gzip_bytes(std::string(100000, 'x'));
    EXPECT_THROW(decompress(g.substr(0, g.size() / 2)), Error);
    EXPECT_THROW(decompress(g + "junk"), Error);
    EXPECT_THROW(decompress(g, 1000), Error);
}

// Yields `data`, then fails instead of ending when `fail` is set.
class FailingReader final : public Reader {
  public:
    FailingReader(std::string data, bool fail) : data_(std::move(data)), fail_(fail) {}
    size_t read(void* buf, size_t n) override {
        size_t k = std::min({n, data_.size() - pos_, size_t{1000}});
        if (k == 0 && fail_) throw Error("digest mismatch");
        std::memcpy(buf, data_.data() + pos_, k);
        pos_ += k;
        return k;
    }

  private:
    std::string data_;
    size_t pos_ = 0;
    bool fail_;
};

std::string pattern(size_t n) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 131 + i / 7);
    return s;
}

TEST(Prefetch, PassesEveryByteInOrderThenTheError) {
    std::string data = pattern(100003);
    PrefetchReader ok(std::make_unique<FailingReader>(data, false), 4096, 3);
    EXPECT_TRUE(read_all(ok, 1 << 20, "t") == data);
    EXPECT_EQ(ok.read(nullptr, 0), 0u);

    PrefetchReader failing(std::make_unique<FailingReader>(data, true), 4096, 3);
    std::string got;
    char buf[777];
    try {
        for (size_t n; (n = failing.read(buf, sizeof buf)) > 0;) got.append(buf, n);
        ADD_FAILURE() << "no error";
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(), "digest mismatch");
    }
    EXPECT_TRUE(got == data) << "got " << got.size() << " of " << data.size() << " bytes";
}

// Sets a flag when closed.
class ClosingReader final : public Reader {
  public:
    ClosingReader(std::string data, bool* closed) : inner_(std::move(data), false), closed_(closed) {}
    ~ClosingReader() override { *closed_ = true; }
    size_t read(void* buf, size_t n) override { return inner_.read(buf, n); }

  private:
    FailingReader inner_;
    bool* closed_;
};

TEST(Prefetch, ClosesTheInnerStreamOnceItEnds) {
    // What the inner stream holds (a layer's scratch file) goes as soon as it is read, not
    // when the consumer lets go of the prefetching reader.
    bool closed = false;
    const std::string data = pattern(50000);
    PrefetchReader r(std::make_unique<ClosingReader>(data, &closed), 4096, 2);
    std::string got;
    char buf[1000];
    for (size_t n; (n = r.read(buf, sizeof buf)) > 0;) got.append(buf, n);
    EXPECT_TRUE(got == data);
    EXPECT_TRUE(closed);
}

TEST(Prefetch, AbandonedMidStreamStopsTheThread) {
    for (int i = 0; i < 20; ++i) {
        PrefetchReader r(std::make_unique<FailingReader>(pattern(1 << 20), false), 1024, 2);
        char buf[10];
        EXPECT_EQ(r.read(buf, sizeof buf), sizeof buf);
    }  // each destructor must return: the test would hang otherwise
}

TEST(Paths, Normalise) {
    EXPECT_EQ(normalize_entry_path("./a//b/"), "a/b");
    EXPECT_EQ(normalize_entry_path("/a"), "a");
    EXPECT_EQ(normalize_entry_path("."), "");
    EXPECT_THROW(normalize_entry_path("a/../b"), Error);
    EXPECT_THROW(normalize_entry_path(".."), Error);
}

TEST(Paths, LinkTargetsInsideArchive) {
    EXPECT_EQ(resolve_link_target("abc/layer.tar", "../def/layer.tar"), "def/layer.tar");
    EXPECT_EQ(resolve_link_target("abc/layer.tar", "/x.tar"), "x.tar");
    EXPECT_THROW(resolve_link_target("abc/layer.tar", "../../etc/passwd"), Error);
}


// Names from tar headers and text from registries end up in the one-line error: nothing in
// them may break the line or reach the terminal as a control sequence.
TEST(Error, EscapesControlCharacters) {
    using namespace std::string_literals;
    Error e("layer: a\x1b[31mred\x07\0nul\nnext \xc2\x9b" "2J caf\xc3\xa9"s);
    const char* want = "layer: a\\x1b[31mred\\x07\\x00nul next \\xc2\\x9b" "2J caf\xc3\xa9";
    EXPECT_STREQ(e.what(), want);
    EXPECT_EQ(std::string(e.within("ctx").what()), std::string("ctx: ") + want);
}

// A credential helper may exit before reading what we write: the write fails, the process
// lives on (SIGPIPE's default action would end it).
TEST(Files, WriteToAClosedPipeFailsWithoutASignal) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    close(fds[0]);
    EXPECT_FALSE(write_to_pipe(fds[1], "server.example\n"));
    close(fds[1]);
    int ok[2];
    ASSERT_EQ(pipe(ok), 0);
    EXPECT_TRUE(write_to_pipe(ok[1], "server.example\n"));
    char buf[32] = {};
    EXPECT_EQ(read(ok[0], buf, sizeof buf), 15);
    close(ok[0]);
    close(ok[1]);
}

}  // namespace
}  // namespace d2a
