// One block of the gzip output: the block's bytes planned into pieces (stored where they
// look random, deflated otherwise) and encoded as raw deflate blocks, none of them final,
// ending on a byte boundary. Blocks encoded on any thread therefore join into one deflate
// stream, framed once as one gzip member (put_gzip_header, then put_gzip_end), so that
// every reader, streaming ones included, sees the whole ACI.
//
// The plan depends on the block's bytes and the level only, so the output is the same
// whatever thread encodes the block.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <vector>

struct libdeflate_compressor;

namespace d2a {

// The unit of the entropy test. Small enough to separate a random file from the text
// next to it in a tar stream, large enough for the estimate to be stable (1024 samples).
inline constexpr size_t kEntropyChunk = 2048;

// Crowded text (GzipPiece::crowded) asked for at this level, the default, where libdeflate
// searches least deeply compared with zlib (35 candidates to 128), is deflated one level
// up. Bench image C (a 60-word vocabulary): 103.3% of gzip -6 at level 6, 100.5% at 7;
// the machine's own files (image R) are 0.03% smaller with it at the same speed.
inline constexpr int kCrowdedTextLevel = 6;
inline constexpr int kCrowdedTextLevelUp = 7;
// Pieces shorter than this are not judged: too little to gain on.
inline constexpr size_t kCrowdedMinBytes = 64 << 10;
// How many bytes the cheap test for a small vocabulary (crowded_prefixes) looks at.
inline constexpr size_t kCrowdedSample = 16 << 10;

struct GzipPiece {
    size_t offset = 0;
    size_t size = 0;
    int level = 0;  // 0: stored as is
    // Many more distinct 8-byte strings than 4-byte ones in a sample: a small vocabulary,
    // where libdeflate's 4-byte hash chains fill with copies of one word. Only at
    // kCrowdedTextLevel, for pieces of at least kCrowdedMinBytes; `level` is then
    // kCrowdedTextLevelUp.
    bool crowded = false;
};

// Splits a block into runs of chunks that are stored (their bytes look random) or
// deflated at one level: `level`, 1 when the block as a whole compresses poorly, or
// kCrowdedTextLevelUp for crowded text.
std::vector<GzipPiece> plan_gzip_block(std::span<const unsigned char> block, int level);

// Whether the first kCrowdedSample bytes of `text` are of a small vocabulary (see
// GzipPiece::crowded); false for less.
bool crowded_prefixes(std::span<const unsigned char> text);

class GzipBlockEncoder {
  public:
    explicit GzipBlockEncoder(int level);
    ~GzipBlockEncoder();
    GzipBlockEncoder(GzipBlockEncoder&&) noexcept;
    GzipBlockEncoder& operator=(GzipBlockEncoder&&) noexcept;

    // Replaces `out` with joinable raw deflate blocks holding `in`; returns the CRC-32 of
    // `in`.
    uint32_t encode(std::span<const unsigned char> in, std::vector<unsigned char>& out);

  private:
    libdeflate_compressor* compressor_for(int level);
    // Appends `piece` deflated by libdeflate, made joinable.
    void deflate_with_libdeflate(std::span<const unsigned char> piece, int level,
                                 std::vector<unsigned char>& out);

    struct Free {
        void operator()(libdeflate_compressor* c) const;
    };
    int level_;
    std::map<int, std::unique_ptr<libdeflate_compressor, Free>> by_level_;
};

// The gzip member around the joined blocks: the RFC 1952 header (no name, no time,
// "unknown" OS, so the bytes do not depend on the machine), and the end: a final empty
// deflate block, then the CRC-32 and the size (mod 2^32) of everything.
void put_gzip_header(std::vector<unsigned char>& out);
void put_gzip_end(std::vector<unsigned char>& out, uint32_t crc, uint64_t size);

}  // namespace d2a
