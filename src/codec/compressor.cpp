#include "codec/compressor.hpp"

#include <zlib.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "codec/gzip_block.hpp"
#include "util/error.hpp"
#include "util/ordered_map.hpp"

namespace d2a {

namespace {

constexpr size_t kBlockSize = 1 << 20;

class PassThrough final : public Writer {
  public:
    explicit PassThrough(Writer& sink) : sink_(sink) {}
    void write(const void* buf, size_t n) override { sink_.write(buf, n); }
    void finish() override { sink_.finish(); }

  private:
    Writer& sink_;
};

class ParallelGzip final : public Writer {
  public:
    ParallelGzip(Writer& sink, int level, unsigned threads)
        : sink_(sink),
          encoders_(make_encoders(level, threads)),
          // One thread: every block is encoded on the caller's, in take().
          blocks_(encoders_.size() > 1 ? encoders_.size() : 0),
          window_(encoders_.size() * 2) {
        current_.reserve(kBlockSize);
    }

    void write(const void* buf, size_t n) override {
        const auto* p = static_cast<const unsigned char*>(buf);
        while (n > 0) {
            size_t k = std::min(kBlockSize - current_.size(), n);
            current_.insert(current_.end(), p, p + k);
            p += k;
            n -= k;
            if (current_.size() == kBlockSize) submit();
        }
    }

    void finish() override {
        if (!current_.empty()) submit();
        while (blocks_.pending() > 0) emit(blocks_.take());
        std::vector<unsigned char> end;
        if (!header_written_) put_gzip_header(end);
        put_gzip_end(end, crc_, size_);
        sink_.write(end.data(), end.size());
        sink_.finish();
    }

  private:
    struct Encoded {
        std::vector<unsigned char> out;
        uint32_t crc = 0;
        uint64_t size = 0;
    };

    static std::vector<GzipBlockEncoder> make_encoders(int level, unsigned threads) {
        if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
        std::vector<GzipBlockEncoder> encoders;
        for (unsigned i = 0; i < threads; ++i) encoders.emplace_back(level);
        return encoders;
    }

    // Blocks go out in order: the header before the first, each block's CRC combined into
    // the member's.
    void emit(const Encoded& block) {
        if (!header_written_) {
            std::vector<unsigned char> header;
            put_gzip_header(header);
            sink_.write(header.data(), header.size());
            header_written_ = true;
        }
        sink_.write(block.out.data(), block.out.size());
        crc_ =
            static_cast<uint32_t>(crc32_combine(crc_, block.crc, static_cast<z_off_t>(block.size)));
        size_ += block.size;
    }

    void submit() {
        while (blocks_.pending() >= window_) emit(blocks_.take());
        auto in = std::make_shared<std::vector<unsigned char>>(std::move(current_));
        current_ = {};
        current_.reserve(kBlockSize);
        blocks_.submit([this, in](size_t worker, const std::atomic<bool>&) {
            Encoded block;
            block.size = in->size();
            block.crc = encoders_[worker].encode(*in, block.out);
            return block;
        });
    }

    Writer& sink_;
    std::vector<GzipBlockEncoder> encoders_;  // one per worker: each keeps its own state
    std::vector<unsigned char> current_;
    bool header_written_ = false;
    uint32_t crc_ = 0;
    uint64_t size_ = 0;
    OrderedMap<Encoded> blocks_;  // after what its tasks use: its workers stop first
    size_t window_;
};

}  // namespace

std::unique_ptr<Writer> make_compressor(const CompressionOptions& options, unsigned threads,
                                        Writer& sink) {
    if (options.kind == OutputCompression::none) return std::make_unique<PassThrough>(sink);
    if (options.level < 1 || options.level > 12) {
        throw Error("compression level must be 1 to 12, not " + std::to_string(options.level));
    }
    return std::make_unique<ParallelGzip>(sink, options.level, threads);
}

}  // namespace d2a
