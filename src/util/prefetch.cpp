#include "util/prefetch.hpp"

#include <cstring>
#include <system_error>

namespace d2a {

PrefetchReader::PrefetchReader(std::unique_ptr<Reader> inner, size_t chunk_size, size_t depth)
    : inner_(std::move(inner)), chunk_size_(chunk_size), depth_(depth) {
    try {
        thread_ = std::thread([this] { produce(); });
    } catch (const std::system_error&) {  // no thread to spare: read() reads directly
    }
}

PrefetchReader::~PrefetchReader() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    changed_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void PrefetchReader::produce() {
    for (;;) {
        Chunk chunk;
        {
            std::unique_lock lock(mutex_);
            changed_.wait(lock, [&] { return stopping_ || ready_.size() < depth_; });
            if (stopping_) return;
            if (!spare_.empty()) {
                chunk.bytes = std::move(spare_.back());
                spare_.pop_back();
            }
        }
        if (!chunk.bytes) chunk.bytes.reset(new char[chunk_size_]);  // uninitialised: read into
        bool end = false;
        std::exception_ptr error;
        try {
            while (chunk.size < chunk_size_) {
                size_t n = inner_->read(chunk.bytes.get() + chunk.size, chunk_size_ - chunk.size);
                if (n == 0) {
                    end = true;
                    break;
                }
                chunk.size += n;
            }
        } catch (...) {  // handed to the consumer after the bytes before it
            error = std::current_exception();
            end = true;
        }
        // Closed here, once read to its end: what closing frees (a scratch file's pages,
        // say) is freed while the consumer still has chunks to take, not after it.
        if (end) inner_.reset();
        {
            std::lock_guard lock(mutex_);
            if (chunk.size > 0) ready_.push_back(std::move(chunk));
            error_ = error;
            inner_done_ = end;
        }
        changed_.notify_all();
        if (end) return;
    }
}

bool PrefetchReader::next_chunk() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !ready_.empty() || inner_done_; });
    if (ready_.empty()) {
        if (error_) std::rethrow_exception(error_);
        return false;
    }
    if (current_.bytes) spare_.push_back(std::move(current_.bytes));
    current_ = std::move(ready_.front());
    ready_.pop_front();
    current_pos_ = 0;
    lock.unlock();
    changed_.notify_all();
    return true;
}

size_t PrefetchReader::read(void* buf, size_t n) {
    if (n == 0) return 0;
    if (!thread_.joinable()) return inner_->read(buf, n);
    if (current_pos_ == current_.size && !next_chunk()) return 0;
    size_t k = std::min(n, current_.size - current_pos_);
    std::memcpy(buf, current_.bytes.get() + current_pos_, k);
    current_pos_ += k;
    return k;
}

}  // namespace d2a
