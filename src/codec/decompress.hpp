// Compression detected by magic bytes (never by name or media type alone) and streaming
// decompressors with a cap on the output size, so a bomb fails instead of filling memory
// or disk.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "util/stream.hpp"

namespace d2a {

enum class Compression { none, gzip, zstd, xz, bzip2 };

std::string_view compression_name(Compression c);
Compression detect_compression(std::string_view head);

// Wraps `inner`, sniffing its magic bytes; plain data passes through unchanged.
// Fails once more than max_output bytes come out.
// Fails once more than max_output bytes come out, or once more than 64 MiB came out at a
// ratio above max_ratio.
std::unique_ptr<Reader> open_decompressed(std::unique_ptr<Reader> inner, const std::string& what,
                                          uint64_t max_output, uint64_t max_ratio,
                                          Compression* detected = nullptr);

}  // namespace d2a
