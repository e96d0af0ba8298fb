// DeflateEncoder: whatever the bytes, zlib inflates each call's output back to its input,
// alone (no match reaches before it) and joined with the next call's output.
#include <cstdlib>
#include <string>
#include <vector>

#include "codec/deflate_encoder.hpp"
#include "support/inflate_raw.hpp"

// Input: where to cut (2 bytes, big-endian, modulo the rest's length), then the bytes; the
// two parts are encoded by one encoder in turn.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2) return 0;
    const size_t cut_at = (size_t{data[0]} << 8 | data[1]) % (size - 1);
    const std::string rest(reinterpret_cast<const char*>(data + 2), size - 2);
    const std::string first = rest.substr(0, cut_at), second = rest.substr(cut_at);
    d2a::DeflateEncoder encoder;
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
