#include "codec/compressor.hpp"

#include <zlib.h>

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "codec/gzip_block.hpp"
#include "util/error.hpp"
#include "util/threads.hpp"

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
    ParallelGzip(Writer& sink, int level, unsigned threads) : sink_(sink) {
        if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
        for (unsigned i = 0; i < threads; ++i) encoders_.emplace_back(level);
        max_in_flight_ = threads * 2;
        // None started (the system refused): blocks are encoded inline, as with one thread.
        if (threads > 1)
            workers_ = start_threads(threads, [this](size_t i) { work(encoders_[i]); });
        current_ = std::make_shared<Block>();
        current_->in.reserve(kBlockSize);
    }

    ~ParallelGzip() override { stop(); }

    void write(const void* buf, size_t n) override {
        const auto* p = static_cast<const unsigned char*>(buf);
        while (n > 0) {
            size_t room = kBlockSize - current_->in.size();
            size_t k = std::min(room, n);
            current_->in.insert(current_->in.end(), p, p + k);
            p += k;
            n -= k;
            if (current_->in.size() == kBlockSize) submit();
        }
    }

    void finish() override {
        if (!current_->in.empty()) submit();
        while (!in_flight_.empty()) drain_front();
        stop();
        std::vector<unsigned char> end;
        if (!header_written_) put_gzip_header(end);
        put_gzip_end(end, crc_, size_);
        sink_.write(end.data(), end.size());
        sink_.finish();
    }

  private:
    struct Block {
        std::vector<unsigned char> in;
        std::vector<unsigned char> out;
        uint32_t crc = 0;
        uint64_t size = 0;
        bool done = false;
        std::exception_ptr error;
    };

    // Blocks go out in order: the header before the first, each block's CRC combined into
    // the member's.
    void emit(const Block& block) {
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
        auto block = std::move(current_);
        current_ = std::make_shared<Block>();
        current_->in.reserve(kBlockSize);
        block->size = block->in.size();
        if (workers_.empty()) {
            block->crc = encoders_[0].encode(block->in, block->out);
            emit(*block);
            return;
        }
        while (in_flight_.size() >= max_in_flight_) drain_front();
        {
            std::lock_guard lock(mutex_);
            in_flight_.push_back(block);
            queue_.push_back(block);
        }
        work_ready_.notify_one();
    }

    void drain_front() {
        std::shared_ptr<Block> front;
        {
            std::unique_lock lock(mutex_);
            front = in_flight_.front();
            block_done_.wait(lock, [&] { return front->done; });
            in_flight_.pop_front();
        }
        if (front->error) std::rethrow_exception(front->error);
        emit(*front);
    }

    void work(GzipBlockEncoder& encoder) {
        for (;;) {
            std::shared_ptr<Block> block;
            {
                std::unique_lock lock(mutex_);
                work_ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
                if (queue_.empty()) return;
                block = queue_.front();
                queue_.pop_front();
            }
            std::exception_ptr error;
            try {
                block->crc = encoder.encode(block->in, block->out);
                block->in = {};
            } catch (...) {  // rethrown in order by drain_front(): nothing may escape a thread
                error = std::current_exception();
            }
            {
                std::lock_guard lock(mutex_);
                block->error = error;
                block->done = true;
            }
            block_done_.notify_all();
        }
    }

    void stop() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        work_ready_.notify_all();
        for (auto& t : workers_) {
            if (t.joinable()) t.join();
        }
        workers_.clear();
    }

    Writer& sink_;
    std::vector<GzipBlockEncoder> encoders_;
    std::vector<std::thread> workers_;
    std::shared_ptr<Block> current_;
    std::deque<std::shared_ptr<Block>> in_flight_;
    std::deque<std::shared_ptr<Block>> queue_;
    size_t max_in_flight_ = 2;
    bool header_written_ = false;
    uint32_t crc_ = 0;
    uint64_t size_ = 0;
    std::mutex mutex_;
    std::condition_variable work_ready_;
    std::condition_variable block_done_;
    bool stopping_ = false;
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
