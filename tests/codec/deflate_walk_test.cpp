#include "codec/deflate_walk.hpp"

#include <gtest/gtest.h>
#include <libdeflate.h>
#include <zlib.h>

#include <algorithm>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "util/error.hpp"

namespace d2a {
namespace {

// zlib's view of the same stream, walking its blocks with Z_BLOCK as zlib's gzjoin
// example does: where the last block starts. (Where the stream ends, in bits, zlib does
// not report once it is done; the joins the gzip tests decode check that.)
uint64_t zlib_last_block(std::vector<unsigned char> s) {
    z_stream z{};
    EXPECT_EQ(inflateInit2(&z, -15), Z_OK);
    z.next_in = s.data();
    z.avail_in = static_cast<uInt>(s.size());
    unsigned char out[1 << 15];
    std::vector<uint64_t> boundaries = {0};  // block starts, then the end of the last block
    for (;;) {
        z.next_out = out;
        z.avail_out = sizeof out;
        int rc = inflate(&z, Z_BLOCK);
        if (rc == Z_STREAM_END) break;
        EXPECT_TRUE(rc == Z_OK || rc == Z_BUF_ERROR) << rc;
        if (rc != Z_OK && rc != Z_BUF_ERROR) break;
        if (z.data_type & 128)
            boundaries.push_back((s.size() - z.avail_in) * 8 - static_cast<uint64_t>(z.data_type & 7));
    }
    inflateEnd(&z);
    return boundaries.size() >= 2 ? boundaries[boundaries.size() - 2] : 0;
}

std::vector<unsigned char> deflate_with(const std::string& in, int level) {
    libdeflate_compressor* c = libdeflate_alloc_compressor(level);
    std::vector<unsigned char> out(libdeflate_deflate_compress_bound(c, in.size()));
    out.resize(libdeflate_deflate_compress(c, in.data(), in.size(), out.data(), out.size()));
    libdeflate_free_compressor(c);
    return out;
}

TEST(DeflateWalk, AgreesWithZlibOnLibdeflateStreams) {
    std::mt19937 rng(7);
    std::string text;
    while (text.size() < 600000) text += "value " + std::to_string(rng() % 5000) + " of the config\n";
    std::string noisy;
    for (int i = 0; i < 200000; ++i) noisy += static_cast<char>(rng() % 190);  // incompressible-ish
    // Byte values from a geometric distribution: the rare ones get codes longer than the
    // walker's lookup tables, which are decoded bit by bit.
    std::string skewed;
    std::geometric_distribution<int> geometric(0.08);
    for (int i = 0; i < 300000; ++i) skewed += static_cast<char>(std::min(255, geometric(rng)));
    for (const std::string& input : {text, noisy, skewed, text.substr(0, 37), std::string("x"),
                                     std::string(), text.substr(0, 300000) + noisy}) {
        for (int level : {1, 4, 6, 9, 12}) {
            auto stream = deflate_with(input, level);
            DeflateLayout ours = walk_deflate(stream);
            EXPECT_EQ(ours.last_block_bit, zlib_last_block(stream)) << input.size() << " at level " << level;
            EXPECT_EQ((ours.end_bit + 7) / 8, stream.size()) << input.size() << " at level " << level;
            EXPECT_TRUE(stream[ours.last_block_bit / 8] >> (ours.last_block_bit % 8) & 1)
                << "the last block's final bit";
        }
    }
}

// Text pieces of the sizes that lie between random files in a layer, at the levels the
// compressor uses: one block each, so their end can be read off their last bytes.
TEST(SingleBlockLayout, AgreesWithTheWalkAndSettlesMostPieces) {
    std::mt19937 rng(11);
    std::string text;
    while (text.size() < 400000) text += "value " + std::to_string(rng() % 5000) + " of the config\n";
    std::string skewed;
    std::geometric_distribution<int> geometric(0.08);
    for (int i = 0; i < 100000; ++i) skewed += static_cast<char>(std::min(255, geometric(rng)));
    int single_blocks = 0, settled = 0;
    for (const std::string* source : {&text, &skewed}) {
        for (int i = 0; i < 300; ++i) {
            const size_t size = 200 + rng() % 24000;
            const std::string piece = source->substr(rng() % (source->size() - size), size);
            for (int level : {1, 6}) {
                const auto stream = deflate_with(piece, level);
                const DeflateLayout walked = walk_deflate(stream);
                if (walked.last_block_bit == 0) ++single_blocks;
                const std::optional<DeflateLayout> read = single_block_layout(stream);
                if (!read) continue;
                ++settled;
                EXPECT_EQ(read->last_block_bit, walked.last_block_bit) << size << " at level " << level;
                EXPECT_EQ(read->end_bit, walked.end_bit) << size << " at level " << level;
            }
        }
    }
    EXPECT_GT(single_blocks, 1000);
    // A few tails fit the end-of-block code at two places and go to the walk.
    EXPECT_GT(settled, single_blocks * 9 / 10) << "of " << single_blocks;
}

TEST(SingleBlockLayout, LeavesOtherStreamsToTheWalk) {
    std::mt19937 rng(5);
    std::string text;
    while (text.size() < 2000000) text += "value " + std::to_string(rng() % 50000) + " of the set\n";
    const auto several_blocks = deflate_with(text, 6);
    ASSERT_NE(walk_deflate(several_blocks).last_block_bit, 0u);
    EXPECT_FALSE(single_block_layout(several_blocks));
    std::string noise;
    for (int i = 0; i < 5000; ++i) noise += static_cast<char>(rng());
    const auto stored = deflate_with(noise, 6);
    ASSERT_EQ(stored[0] & 7, 1) << "a final stored block";
    EXPECT_FALSE(single_block_layout(stored));
    EXPECT_FALSE(single_block_layout(deflate_with("x", 6)));  // a fixed-code block, 3 bytes
}

TEST(DeflateWalk, RefusesTruncatedStreams) {
    std::string text;
    for (int i = 0; i < 20000; ++i) text += std::to_string(i * 7919) + " ";
    auto stream = deflate_with(text, 6);
    stream.resize(stream.size() / 2);
    EXPECT_THROW(walk_deflate(stream), Error);
    EXPECT_THROW(walk_deflate(std::vector<unsigned char>{0x07}), Error);  // reserved block type
}

}  // namespace
}  // namespace d2a
