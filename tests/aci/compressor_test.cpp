#include "aci/compressor.hpp"

#include <gtest/gtest.h>

#include <random>

#include "util/decompress.hpp"

namespace d2a {
namespace {

class StringWriter final : public Writer {
  public:
    void write(const void* buf, size_t n) override {
        data.append(static_cast<const char*>(buf), n);
    }
    std::string data;
};

std::string gzip(const std::string& in, unsigned threads, int level = 6) {
    StringWriter out;
    auto c = make_compressor({OutputCompression::gzip, level, threads}, out);
    // Odd write sizes cross block boundaries at arbitrary points.
    for (size_t i = 0; i < in.size(); i += 77777)
        c->write(in.data() + i, std::min<size_t>(77777, in.size() - i));
    c->finish();
    return out.data;
}

std::string gunzip(const std::string& in) {
    auto r = open_decompressed(std::make_unique<MemoryReader>(in), "test", 1ull << 32, 2000);
    return read_all(*r, 1ull << 32, "test");
}

std::string random_bytes(size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    return s;
}

std::string text(size_t n) {
    std::string s;
    for (int i = 0; s.size() < n; ++i)
        s += "line " + std::to_string(i % 977) + " of some configuration text\n";
    s.resize(n);
    return s;
}

TEST(Compressor, RoundTripsAndIsTheSameWhateverTheThreads) {
    std::string input = text(3 << 20) + random_bytes(2 << 20, 1) + text(1 << 20) + "tail";
    std::string one = gzip(input, 1);
    EXPECT_EQ(gunzip(one), input);
    EXPECT_EQ(gzip(input, 2), one);
    EXPECT_EQ(gzip(input, 4), one);
}

TEST(Compressor, StoresRandomBlocksAndCompressesText) {
    std::string noise = random_bytes(4 << 20, 2);
    std::string packed = gzip(noise, 2);
    // Stored: a few bytes of framing per 64 KiB deflate block and per 1 MiB member.
    EXPECT_LT(packed.size(), noise.size() + noise.size() / 1000);
    EXPECT_EQ(gunzip(packed), noise);
    std::string words = text(4 << 20);
    EXPECT_LT(gzip(words, 2).size(), words.size() / 10);
}

TEST(Compressor, EmptyInputIsAValidGzipStream) {
    std::string empty = gzip("", 2);
    EXPECT_FALSE(empty.empty());
    EXPECT_EQ(gunzip(empty), "");
}

TEST(Compressor, NoneIsIdentity) {
    StringWriter out;
    auto c = make_compressor({OutputCompression::none, 6, 0}, out);
    c->write("abc", 3);
    c->finish();
    EXPECT_EQ(out.data, "abc");
}

}  // namespace
}  // namespace d2a
