#include "codec/deflate_encoder.hpp"

#include <gtest/gtest.h>
#include <libdeflate.h>
#include <zlib.h>

#include <random>
#include <string>

#include "codec/gzip_block.hpp"
#include "support/helpers.hpp"
#include "support/inflate_raw.hpp"

namespace d2a {
namespace {

using testing::inflate_raw;
using testing::vocabulary_text;

std::vector<unsigned char> bytes(const std::string& s) {
    return {s.begin(), s.end()};
}

std::string random_bytes(size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    return s;
}

std::vector<unsigned char> encode(DeflateEncoder& encoder, const std::string& in) {
    std::vector<unsigned char> out;
    encoder.encode(bytes(in), out);
    return out;
}

void expect_round_trip(const std::string& in, const std::string& what) {
    DeflateEncoder encoder;
    const auto out = encode(encoder, in);
    EXPECT_EQ(inflate_raw(out), in) << what;
    // Ends byte-aligned with an empty stored block, not final.
    ASSERT_GE(out.size(), 5u) << what;
    EXPECT_EQ(std::string(out.end() - 4, out.end()), std::string("\0\0\xff\xff", 4)) << what;
}

TEST(DeflateEncoder, InflatesBackToTheInputWhateverItHolds) {
    expect_round_trip("", "empty");
    for (size_t n : {1u, 2u, 3u, 7u, 8u, 9u, 15u, 16u, 17u}) {
        expect_round_trip(std::string(n, 'a'), "run of " + std::to_string(n));
        expect_round_trip(random_bytes(n, static_cast<unsigned>(n)), "random " + std::to_string(n));
    }
    // Runs longer than the longest match (258) at distance 1.
    expect_round_trip(std::string(1 << 20, '\0'), "zeros");
    expect_round_trip(random_bytes(300000, 1), "random");
    expect_round_trip(vocabulary_text(3 << 20, 2), "vocabulary text");
    // Repeats at the largest distances: one below, at and above the window.
    for (size_t period : {32767u, 32768u, 32769u, 40000u}) {
        const std::string unit = random_bytes(period, 3);
        expect_round_trip(unit + unit + unit.substr(0, 1000), "period " + std::to_string(period));
    }
    // A few symbols with very uneven counts: long codes, which must be limited to 15 bits.
    std::mt19937 rng(4);
    std::string skewed;
    for (int i = 0; i < 600000; ++i) {
        int symbol = 0;
        while (symbol < 40 && (rng() & 1)) ++symbol;
        skewed += static_cast<char>('A' + symbol);
    }
    expect_round_trip(skewed, "skewed");
}

TEST(DeflateEncoder, EachCallIsIndependentOfTheLast) {
    // The same text twice: the second call must not refer to the first one's bytes.
    DeflateEncoder encoder;
    const std::string text = vocabulary_text(200000, 5);
    const auto first = encode(encoder, text);
    const auto second = encode(encoder, text);
    EXPECT_EQ(inflate_raw(second), text);
    EXPECT_EQ(second, first);
}

TEST(DeflateEncoder, PicksStoredFixedOrDynamicBlocks) {
    DeflateEncoder encoder;
    // The first block's type is in bits 1-2 of the first byte (BFINAL is bit 0, never set).
    auto block_type = [&](const std::string& in) { return encode(encoder, in)[0] & 7; };
    EXPECT_EQ(block_type(random_bytes(100000, 6)), 0b000);
    EXPECT_EQ(block_type("short text, short text"), 0b010);
    EXPECT_EQ(block_type(vocabulary_text(100000, 7)), 0b100);
    const std::string noise = random_bytes(200000, 8);
    // Stored: 5 bytes of framing per block of 32767 literals, and the closing empty block.
    EXPECT_LE(encode(encoder, noise).size(), noise.size() + 5 * (noise.size() / 32767 + 1) + 5);
}

TEST(DeflateEncoder, FindsTheLongerMatchesOfASmallVocabulary) {
    // Why the encoder exists: here libdeflate's level 6 writes about 10% more than zlib's -6.
    const std::string text = vocabulary_text(4 << 20, 9);
    DeflateEncoder encoder;
    size_t ours = 0, libdeflate = 0, zlib = 0;
    libdeflate_compressor* c = libdeflate_alloc_compressor(6);
    std::vector<unsigned char> buf((1 << 20) * 2);
    for (size_t at = 0; at < text.size(); at += 1 << 20) {
        const std::string piece = text.substr(at, 1 << 20);
        ours += encode(encoder, piece).size();
        libdeflate +=
            libdeflate_deflate_compress(c, piece.data(), piece.size(), buf.data(), buf.size());
        z_stream z{};
        ASSERT_EQ(deflateInit2(&z, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
        z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(piece.data()));
        z.avail_in = static_cast<uInt>(piece.size());
        z.next_out = buf.data();
        z.avail_out = static_cast<uInt>(buf.size());
        ASSERT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
        zlib += z.total_out;
        deflateEnd(&z);
    }
    libdeflate_free_compressor(c);
    EXPECT_LT(static_cast<double>(ours), 0.95 * static_cast<double>(libdeflate));
    EXPECT_LT(static_cast<double>(ours), 1.05 * static_cast<double>(zlib));
}

// The Kraft sum of a set of code lengths, in units of 2^-15: a complete code has 2^15.
uint64_t kraft_sum(const std::vector<uint8_t>& lengths) {
    uint64_t sum = 0;
    for (uint8_t len : lengths) {
        if (len) sum += uint64_t{1} << (15 - len);
    }
    return sum;
}

TEST(LimitedCodeLengths, AreHuffmanCodesWithinTheLimit) {
    const std::vector<uint32_t> small = {1, 1, 2, 4, 0};
    EXPECT_EQ(limited_code_lengths(small, 15), (std::vector<uint8_t>{3, 3, 2, 1, 0}));
    // Fibonacci counts make a tree 29 deep; limited to 15 and to 7, still complete.
    std::vector<uint32_t> fibonacci = {1, 1};
    while (fibonacci.size() < 30) fibonacci.push_back(fibonacci.end()[-1] + fibonacci.end()[-2]);
    for (unsigned limit : {15u, 7u}) {
        const auto lengths = limited_code_lengths(fibonacci, limit);
        EXPECT_EQ(*std::max_element(lengths.begin(), lengths.end()), limit);
        EXPECT_EQ(kraft_sum(lengths), uint64_t{1} << 15) << limit;
        // Rarer symbols never get shorter codes.
        for (size_t i = 1; i < lengths.size(); ++i) EXPECT_LE(lengths[i], lengths[i - 1]) << i;
    }
    // One symbol, or none: two codes of length 1.
    EXPECT_EQ(limited_code_lengths(std::vector<uint32_t>{0, 0, 7, 0}, 15),
              (std::vector<uint8_t>{1, 0, 1, 0}));
    EXPECT_EQ(limited_code_lengths(std::vector<uint32_t>{0, 0, 0}, 15),
              (std::vector<uint8_t>{1, 1, 0}));
}

TEST(CrowdedPrefixes, TellsASmallVocabularyFromOtherText) {
    const std::string words = vocabulary_text(1 << 16, 10);
    EXPECT_TRUE(crowded_prefixes(bytes(words)));
    std::string lines;
    for (int i = 0; lines.size() < (1 << 16); ++i)
        lines += "line " + std::to_string(i) + " of some configuration text\n";
    EXPECT_FALSE(crowded_prefixes(bytes(lines)));
    EXPECT_FALSE(crowded_prefixes(bytes(random_bytes(1 << 16, 11))));
    // Too short to judge.
    EXPECT_FALSE(crowded_prefixes(bytes(words.substr(0, 8000))));
}

}  // namespace
}  // namespace d2a
