// zlib, an implementation independent of ours, inflating raw deflate data that ends on a
// byte boundary without a final block (as DeflateEncoder writes it), with a fresh window:
// a match reaching before the data fails ("invalid distance too far back").
#pragma once

#include <zlib.h>

#include <optional>
#include <span>
#include <string>

namespace d2a::testing {

// The inflated bytes, or nothing when zlib finds an error or input left over.
inline std::optional<std::string> inflate_raw(std::span<const unsigned char> in) {
    z_stream z{};
    if (inflateInit2(&z, -MAX_WBITS) != Z_OK) return std::nullopt;
    z.next_in = const_cast<Bytef*>(in.data());
    z.avail_in = static_cast<uInt>(in.size());
    std::string out;
    int rc = Z_OK;
    char buf[65536];
    do {
        z.next_out = reinterpret_cast<Bytef*>(buf);
        z.avail_out = sizeof buf;
        rc = inflate(&z, Z_SYNC_FLUSH);
        out.append(buf, sizeof buf - z.avail_out);
    } while (rc == Z_OK && (z.avail_in > 0 || z.avail_out == 0));
    const bool consumed = z.avail_in == 0;
    inflateEnd(&z);
    // Z_BUF_ERROR: no progress possible, which is how a stream without a final block ends.
    if ((rc != Z_OK && rc != Z_BUF_ERROR) || !consumed) return std::nullopt;
    return out;
}

}  // namespace d2a::testing
