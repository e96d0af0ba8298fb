// GzipBlockEncoder: whatever the bytes and the level, zlib inflates each block's output
// back to its input, alone and joined with the next block's (the plan's stored runs,
// libdeflate's streams with their final bit cleared, the empty stored blocks between).
#include <cstdlib>
#include <string>
#include <vector>

#include "codec/gzip_block.hpp"
#include "support/inflate_raw.hpp"

// Input: the level (1 byte, 1 to 12), where to cut (2 bytes, big-endian, modulo the rest's
// length), then the bytes; the two parts are encoded by one encoder in turn.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 3) return 0;
    const int level = 1 + data[0] % 12;
    const size_t cut_at = (size_t{data[1]} << 8 | data[2]) % (size - 2);
    const std::string rest(reinterpret_cast<const char*>(data + 3), size - 3);
    const std::string first = rest.substr(0, cut_at), second = rest.substr(cut_at);
    d2a::GzipBlockEncoder encoder(level);
    std::vector<unsigned char> a, b;
    encoder.encode({reinterpret_cast<const unsigned char*>(first.data()), first.size()}, a);
    encoder.encode({reinterpret_cast<const unsigned char*>(second.data()), second.size()}, b);
    if (d2a::testing::inflate_raw(a) != first || d2a::testing::inflate_raw(b) != second)
        std::abort();
    std::vector<unsigned char> joined = a;
    joined.insert(joined.end(), b.begin(), b.end());
    if (d2a::testing::inflate_raw(joined) != rest) std::abort();
    return 0;
}
