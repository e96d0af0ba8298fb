// Where the blocks of a raw deflate stream (RFC 1951) lie, found without producing its
// output: the gzip writer needs the last block's header (to clear its final bit) and the
// bit where the stream ends (to align the next piece), and a full inflate that throws its
// output away costs several times more.
#pragma once

#include <cstdint>
#include <span>

namespace d2a {

struct DeflateLayout {
    uint64_t last_block_bit = 0;  // the final block's header (its BFINAL bit)
    uint64_t end_bit = 0;         // just after the final block's end-of-block code
};

// Throws Error on a malformed or truncated stream.
DeflateLayout walk_deflate(std::span<const unsigned char> stream);

}  // namespace d2a
