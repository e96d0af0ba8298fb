// Byte streams between the pipeline stages. Readers return 0 only at end of stream.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace d2a {

struct Digest;

class Reader {
  public:
    virtual ~Reader() = default;
    // Reads up to n bytes; returns 0 at end of stream. Throws Error on failure.
    virtual size_t read(void* buf, size_t n) = 0;
    // Skips up to n bytes, returns how many were skipped (fewer only at the end). Readers
    // that can seek override it; the default reads and discards.
    virtual uint64_t skip(uint64_t n);
    // Whether this stream ends (returns 0) only after checking that all it returned has
    // `digest` (and is `size` bytes, when given), and throws otherwise: a reader over it
    // need not check the same again. Most streams check nothing.
    [[nodiscard]] virtual bool ends_verified_as(const Digest& /*digest*/,
                                                std::optional<uint64_t> /*size*/) const {
        return false;
    }
};

class Writer {
  public:
    virtual ~Writer() = default;
    virtual void write(const void* buf, size_t n) = 0;
    // Flushes everything; no write may follow.
    virtual void finish() {}
};

// Reads the whole stream, failing if it is longer than `limit` bytes.
std::string read_all(Reader& reader, size_t limit, const std::string& what);

// Copies reader to writer, returns the byte count.
uint64_t copy_stream(Reader& reader, Writer& writer);

class MemoryReader final : public Reader {
  public:
    explicit MemoryReader(std::string data) : data_(std::move(data)) {}
    size_t read(void* buf, size_t n) override;

  private:
    std::string data_;
    size_t pos_ = 0;
};

// Serves the first bytes again: lets a caller sniff magic bytes and then hand the whole
// stream on.
class PeekReader final : public Reader {
  public:
    explicit PeekReader(std::unique_ptr<Reader> inner) : inner_(std::move(inner)) {}
    // Returns up to n leading bytes without consuming them.
    std::string peek(size_t n);
    size_t read(void* buf, size_t n) override;
    uint64_t skip(uint64_t n) override;

  private:
    std::unique_ptr<Reader> inner_;
    std::string head_;
    size_t head_pos_ = 0;
    bool inner_eof_ = false;
};

}  // namespace d2a
