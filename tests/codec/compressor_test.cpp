#include "codec/compressor.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <random>
#include <span>

#include "codec/decompress.hpp"
#include "codec/gzip_block.hpp"
#include "support/helpers.hpp"

namespace d2a {
namespace {

using testing::StringWriter;
using testing::vocabulary_text;

std::string gzip(const std::string& in, unsigned threads, int level = 6) {
    StringWriter out;
    auto c = make_compressor({OutputCompression::gzip, level}, threads, out);
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

// zlib, an implementation independent of ours, reading member after member; also counts
// them.
std::string zlib_gunzip(const std::string& in, int* members) {
    std::string out;
    size_t at = 0;
    *members = 0;
    while (at < in.size()) {
        z_stream z{};
        EXPECT_EQ(inflateInit2(&z, 16 + MAX_WBITS), Z_OK);
        z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data() + at));
        z.avail_in = static_cast<uInt>(in.size() - at);
        int rc = Z_OK;
        char buf[65536];
        while (rc == Z_OK) {
            z.next_out = reinterpret_cast<Bytef*>(buf);
            z.avail_out = sizeof buf;
            rc = inflate(&z, Z_NO_FLUSH);
            out.append(buf, sizeof buf - z.avail_out);
        }
        EXPECT_EQ(rc, Z_STREAM_END) << "member " << *members << " at byte " << at;
        at = in.size() - z.avail_in;
        inflateEnd(&z);
        if (rc != Z_STREAM_END) break;
        ++*members;
    }
    return out;
}

std::span<const unsigned char> bytes(const std::string& s) {
    return {reinterpret_cast<const unsigned char*>(s.data()), s.size()};
}

TEST(GzipBlock, StoresTheRandomRunsOfAMixedBlock) {
    // text | random | text, the random part on 2 KiB chunk boundaries.
    std::string block = text(50 * 2048) + random_bytes(400 * 2048, 3) + text(62 * 2048 + 5);
    auto pieces = plan_gzip_block(bytes(block), 6);
    ASSERT_EQ(pieces.size(), 3u);
    // The block is mostly random, so its text is deflated at level 1, not 6.
    EXPECT_EQ(plan_gzip_block(bytes(text(1 << 20)), 6)[0].level, 6);
    EXPECT_EQ(pieces[0].offset, 0u);
    EXPECT_EQ(pieces[0].size, 50u * 2048);
    EXPECT_EQ(pieces[0].level, 1);
    EXPECT_EQ(pieces[1].offset, 50u * 2048);
    EXPECT_EQ(pieces[1].size, 400u * 2048);
    EXPECT_EQ(pieces[1].level, 0);
    EXPECT_EQ(pieces[2].offset, 450u * 2048);
    EXPECT_EQ(pieces[2].size, 62u * 2048 + 5);
    EXPECT_EQ(pieces[2].level, 1);
}

TEST(GzipBlock, RandomChunksOfAnyLengthAreStored) {
    // The entropy test counts a sample (8 bytes of every 16, and every byte of a tail
    // under 16): a chunk cut short anywhere is still judged by what it holds.
    for (size_t tail : {2047u, 2040u, 1500u, 1033u, 1031u}) {
        std::string block = text(4 * 2048) + random_bytes(tail, 7);
        auto pieces = plan_gzip_block(bytes(block), 6);
        ASSERT_EQ(pieces.size(), 2u) << tail;
        EXPECT_EQ(pieces[1].offset, 4u * 2048) << tail;
        EXPECT_EQ(pieces[1].size, tail) << tail;
        EXPECT_EQ(pieces[1].level, 0) << tail;
    }
}

// Bytes planned to be stored.
size_t stored_bytes(const std::vector<GzipPiece>& pieces) {
    size_t n = 0;
    for (const auto& p : pieces) n += p.level == 0 ? p.size : 0;
    return n;
}

std::string repeated(const std::string& unit, size_t n) {
    std::string s;
    while (s.size() < n) s += unit;
    s.resize(n);
    return s;
}

TEST(GzipBlock, ARandomUnitThatRepeatsWithinTheWindowIsNotStored) {
    // Periods from just over a chunk to the window's reach, at odd offsets; the run of
    // copies is one deflated piece with the first copy in it (its matches reach back).
    for (size_t period : {2049u, 3000u, 4096u, 12345u, 32000u, 32767u}) {
        const std::string block =
            text(3 * 2048 + 100) + repeated(random_bytes(period, 11), 6 * period) + text(5000);
        const auto pieces = plan_gzip_block(bytes(block), 6);
        EXPECT_EQ(stored_bytes(pieces), 0u) << period;
        // And the encoded block is about one copy, not six.
        GzipBlockEncoder encoder(6);
        std::vector<unsigned char> out;
        encoder.encode(bytes(block), out);
        EXPECT_LT(out.size(), period + period / 4 + 20000) << period;
    }
}

TEST(GzipBlock, RandomBytesThatDoNotRepeatWithinTheWindowAreStored) {
    // No repeat at all; and a unit whose copy lies 32 KiB back or more, where neither
    // libdeflate's matches nor zlib's reach.
    EXPECT_EQ(stored_bytes(plan_gzip_block(bytes(random_bytes(1 << 20, 5)), 6)), 1u << 20);
    for (size_t period : {32768u, 33u << 10}) {
        const std::string far = random_bytes(period, 6);
        const std::string block = far + far;
        EXPECT_EQ(stored_bytes(plan_gzip_block(bytes(block), 6)), block.size()) << period;
    }
}

TEST(GzipBlock, TextKeepsTheLevelAskedFor) {
    std::string block = text(1 << 20);
    auto pieces = plan_gzip_block(bytes(block), 9);
    ASSERT_EQ(pieces.size(), 1u);
    EXPECT_EQ(pieces[0].size, block.size());
    EXPECT_EQ(pieces[0].level, 9);
    EXPECT_EQ(plan_gzip_block(bytes(block), 2)[0].level, 2);
}

// One gzip member around encoded blocks, as the compressor frames them.
std::string frame(const std::vector<std::string>& blocks, GzipBlockEncoder& encoder) {
    std::vector<unsigned char> all;
    put_gzip_header(all);
    uint32_t crc = 0;
    uint64_t size = 0;
    std::vector<unsigned char> out;
    for (const auto& b : blocks) {
        uint32_t block_crc = encoder.encode(bytes(b), out);
        all.insert(all.end(), out.begin(), out.end());
        crc = static_cast<uint32_t>(crc32_combine(crc, block_crc, static_cast<z_off_t>(b.size())));
        size += b.size();
    }
    put_gzip_end(all, crc, size);
    return std::string(all.begin(), all.end());
}

TEST(GzipBlock, MarksLongPiecesOfASmallVocabularyAtTheDefaultLevel) {
    const std::string words = vocabulary_text(1 << 20, 1);
    auto pieces = plan_gzip_block(bytes(words), 6);
    ASSERT_EQ(pieces.size(), 1u);
    EXPECT_TRUE(pieces[0].crowded);
    EXPECT_EQ(pieces[0].level, kCrowdedTextLevelUp);
    EXPECT_FALSE(plan_gzip_block(bytes(words), 9)[0].crowded);
    EXPECT_EQ(plan_gzip_block(bytes(words), 9)[0].level, 9);
    EXPECT_FALSE(plan_gzip_block(bytes(words.substr(0, kCrowdedMinBytes - 1)), 6)[0].crowded);
    EXPECT_FALSE(plan_gzip_block(bytes(text(1 << 20)), 6)[0].crowded);
    // After a random file, the piece starts with the file's tail (in a chunk that is not
    // random as a whole) and a tar header: still crowded.
    const std::string after_random =
        random_bytes(3548, 12) + std::string(512, '\0') + vocabulary_text((1 << 20) - 4060, 13);
    pieces = plan_gzip_block(bytes(after_random), 6);
    ASSERT_EQ(pieces.size(), 2u);
    EXPECT_EQ(pieces[1].offset, 2048u);
    EXPECT_TRUE(pieces[1].crowded);
    EXPECT_EQ(pieces[0].level, 0);
}

// Crowded pieces are deflated one level up, in one member that zlib reads whole.
TEST(GzipBlock, CrowdedPiecesAreDeflatedOneLevelUp) {
    const std::string words = vocabulary_text(1 << 20, 2);
    const std::string lines = text(1 << 20);
    GzipBlockEncoder encoder(6);
    std::vector<unsigned char> out;
    encoder.encode(bytes(words), out);
    const size_t crowded_size = out.size();
    GzipBlockEncoder level7(7);
    level7.encode(bytes(words), out);
    EXPECT_EQ(out.size(), crowded_size);  // what level 7 writes, byte for byte in size
    int members = 0;
    EXPECT_EQ(zlib_gunzip(frame({words, lines, words}, encoder), &members), words + lines + words);
    EXPECT_EQ(members, 1);
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

TEST(GzipBlock, BlocksJoinIntoOneDeflateStream) {
    // Stored runs, deflated pieces of several libdeflate blocks, and an empty block, in
    // one member that zlib reads to its end.
    std::string mixed = random_bytes(70000, 4) + text(300000) + random_bytes(150000, 5);
    GzipBlockEncoder encoder(6);
    std::vector<std::string> blocks = {mixed, text(1 << 20), "", random_bytes(5000, 6), "x"};
    int members = 0;
    std::string expected;
    for (const auto& b : blocks) expected += b;
    std::string gz = frame(blocks, encoder);
    EXPECT_EQ(zlib_gunzip(gz, &members), expected);
    EXPECT_EQ(members, 1);
    EXPECT_LT(gz.size(), 70000 + 150000 + 5000 + 300000 / 10 + (1 << 20) / 10);
}

// A deflated piece ends anywhere in its last byte; every number of unused bits (0 to 7)
// must give a valid join. Many lengths of text cover them all.
TEST(GzipBlock, JoinsWhateverBitTheLastBlockEndsOn) {
    GzipBlockEncoder encoder(6);
    std::vector<std::string> blocks;
    std::string expected;
    for (size_t n = 1; n < 400; n += 3) {
        blocks.push_back(text(n * 37 + 1).substr(n % 11));
        expected += blocks.back();
    }
    int members = 0;
    EXPECT_EQ(zlib_gunzip(frame(blocks, encoder), &members), expected);
    EXPECT_EQ(members, 1);
}

TEST(Compressor, WholeStreamsAreOneGzipMember) {
    std::string input = random_bytes(3 << 19, 6) + text(5 << 19) + random_bytes(12345, 7);
    int members = 0;
    std::string gz = gzip(input, 2);
    EXPECT_EQ(zlib_gunzip(gz, &members), input);
    EXPECT_EQ(members, 1);
    // The trailer holds the size of everything (gzip -l reads only the last one).
    uint32_t isize = 0;
    for (int i = 0; i < 4; ++i)
        isize |= static_cast<uint32_t>(static_cast<unsigned char>(gz[gz.size() - 4 + i]))
                 << (8 * i);
    EXPECT_EQ(isize, input.size());
}

TEST(Compressor, EmptyInputIsAValidGzipStream) {
    std::string empty = gzip("", 2);
    EXPECT_FALSE(empty.empty());
    EXPECT_EQ(gunzip(empty), "");
}

TEST(Compressor, NoneIsIdentity) {
    StringWriter out;
    auto c = make_compressor({OutputCompression::none, 6}, 0, out);
    c->write("abc", 3);
    c->finish();
    EXPECT_EQ(out.data, "abc");
}

}  // namespace
}  // namespace d2a
