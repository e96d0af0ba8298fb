// Output compressors. gzip cuts the stream into fixed 1 MiB blocks, encoded on every core
// as raw deflate blocks that join into one stream (gzip_block.hpp), framed as a single gzip
// member: the bytes depend only on the input and the level, never on the thread count,
// and streaming readers that stop after one member see the whole ACI.
#pragma once

#include <memory>
#include <string>

#include "util/digest.hpp"
#include "util/stream.hpp"

namespace d2a {

enum class OutputCompression { none, gzip };

struct CompressionOptions {
    OutputCompression kind = OutputCompression::gzip;
    int level = 6;  // 1..12 (libdeflate levels)
};

// `threads` deflate blocks at once (0: one per core; the output is the same whatever it is).
std::unique_ptr<Writer> make_compressor(const CompressionOptions& options, unsigned threads,
                                        Writer& sink);

// Passes bytes on while hashing them (the rkt image ID is SHA-512 of the plain tar).
class HashingWriter final : public Writer {
  public:
    HashingWriter(Writer& inner, HashAlgorithm algorithm) : inner_(inner), hasher_(algorithm) {}
    void write(const void* buf, size_t n) override {
        hasher_.update(buf, n);
        inner_.write(buf, n);
    }
    void finish() override { inner_.finish(); }
    std::string hex_digest() { return hasher_.hex_digest(); }

  private:
    Writer& inner_;
    Hasher hasher_;
};

}  // namespace d2a
