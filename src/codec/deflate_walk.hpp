// Where the blocks of a raw deflate stream (RFC 1951) lie, found without producing its
// output: the gzip writer needs the last block's header (to clear its final bit) and the
// bit where the stream ends (to align the next piece), and a full inflate that throws its
// output away costs several times more.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace d2a {

struct DeflateLayout {
    uint64_t last_block_bit = 0;  // the final block's header (its BFINAL bit)
    uint64_t end_bit = 0;         // just after the final block's end-of-block code
};

// Throws Error on a malformed or truncated stream.
DeflateLayout walk_deflate(std::span<const unsigned char> stream);

// The layout of a well-formed stream that is a single dynamic-code block (its first block
// is final, as libdeflate writes for pieces up to some tens of kilobytes), read from the
// block's header and last bytes without decoding its symbols: the stream ends with the
// end-of-block code and then zero bits up to the byte boundary. When exactly one position
// in the last byte fits that, it is the end; when several do, or the stream is not such a
// block, the answer is empty and walk_deflate must tell. Not a validator: for streams our
// own compressor wrote.
std::optional<DeflateLayout> single_block_layout(std::span<const unsigned char> stream);

}  // namespace d2a
