// One block of the gzip output: the block's bytes planned into pieces (stored where they
// look random, deflated otherwise) and written as one or more complete gzip members.
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
// next to it in a tar stream, large enough for the estimate to be stable (2048 samples).
inline constexpr size_t kEntropyChunk = 2048;

struct GzipPiece {
    size_t offset = 0;
    size_t size = 0;
    int level = 0;  // 0: stored as is
};

// Splits a block into runs of chunks that are stored (their bytes look random) or
// deflated at one level: `level`, or at most 4 when the block as a whole compresses poorly.
std::vector<GzipPiece> plan_gzip_block(std::span<const unsigned char> block, int level);

class GzipBlockEncoder {
  public:
    explicit GzipBlockEncoder(int level);
    ~GzipBlockEncoder();
    GzipBlockEncoder(GzipBlockEncoder&&) noexcept;
    GzipBlockEncoder& operator=(GzipBlockEncoder&&) noexcept;

    // Replaces `out` with the gzip members holding `in` (at least one, even for no bytes).
    void encode(std::span<const unsigned char> in, std::vector<unsigned char>& out);

  private:
    libdeflate_compressor* compressor_for(int level);

    struct Free {
        void operator()(libdeflate_compressor* c) const;
    };
    int level_;
    std::map<int, std::unique_ptr<libdeflate_compressor, Free>> by_level_;
};

}  // namespace d2a
