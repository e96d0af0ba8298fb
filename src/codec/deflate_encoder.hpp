// A deflate encoder (RFC 1951) for the text of the ACI's gzip stream.
//
// libdeflate's level 6 keeps 35 candidates per 4-byte hash chain. On text made of a small
// vocabulary (words, identifiers, keys of a config format), every chain is full of
// earlier copies of the same word, and the one that continues into the next word is
// often not among the 35 it looks at: such text comes out up to 13% larger than zlib's
// -6 (which looks at 128), and libdeflate's level 7 closes the gap at 40% of the speed.
// This encoder keeps a second chain keyed on 8 bytes, which reaches past a short word
// into the next one, so a match that continues is found among a few candidates; a
// shallow 4-byte chain finds the short matches. The parse is zlib's lazy one.
//
// Blocks use dynamic, fixed or stored codes, whichever is smallest; none is final and
// the output ends on a byte boundary, so encodings of consecutive pieces join into one
// stream (as pigz joins zlib's with Z_SYNC_FLUSH).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace d2a {

// Huffman code lengths for symbols with these counts, none longer than `limit` (a symbol
// with count 0 gets length 0). The code is complete: when fewer than two symbols occur,
// unused ones are added to make two. Optimal unless the limit forces longer codes.
std::vector<uint8_t> limited_code_lengths(std::span<const uint32_t> counts, unsigned limit);

class DeflateEncoder {
  public:
    DeflateEncoder();

    // Appends `in` to `out` as raw deflate blocks, none final, ending with an empty
    // stored block. No match refers to bytes before `in`.
    void encode(std::span<const unsigned char> in, std::vector<unsigned char>& out);

  private:
    struct Match {
        uint32_t length = 0;
        uint32_t distance = 0;
    };

    Match find_match(const unsigned char* in, size_t at, size_t size, uint32_t position) const;
    void insert(const unsigned char* in, size_t at, uint32_t position);
    void record_literal(unsigned char byte);
    void record_match(Match m);
    // Writes the symbols recorded since the last block, which hold in[begin, end).
    void write_block(const unsigned char* in, size_t begin, size_t end, unsigned char*& out);

    // Positions are numbered across calls, with a gap of more than a window between calls,
    // so that entries left from an earlier call are simply too far to be candidates and
    // the tables need no clearing.
    uint32_t next_position_;
    std::vector<uint32_t> head3_, head4_, head8_, previous4_, previous8_;

    // The symbols of the block being parsed: a literal byte, or a length (3-258) and a
    // distance (1-32767), packed as value << 16 | distance.
    std::vector<uint32_t> symbols_;
    std::array<uint32_t, 286> literal_length_counts_{};
    std::array<uint32_t, 30> distance_counts_{};

    uint64_t bit_buffer_ = 0;
    unsigned bit_count_ = 0;
};

}  // namespace d2a
