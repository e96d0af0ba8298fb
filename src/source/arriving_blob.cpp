#include "source/arriving_blob.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "util/error.hpp"

namespace d2a {

class ArrivingBlob::BlobReader final : public Reader {
  public:
    BlobReader(std::shared_ptr<ArrivingBlob> blob, std::shared_ptr<void> keep_alive)
        : blob_(std::move(blob)), keep_alive_(std::move(keep_alive)) {}

    // Its end comes only once the download has checked the file's digest and size; for a
    // private file those bytes are the ones read.
    [[nodiscard]] bool ends_verified_as(const Digest& digest,
                                        std::optional<uint64_t> size) const override {
        const Info& info = blob_->info_;
        return info.private_file && digest == info.digest && (!size || size == info.checked_size);
    }

    size_t read(void* buf, size_t n) override {
        ArrivingBlob& blob = *blob_;
        for (;;) {
            uint64_t generation = 0;
            bool was_complete = false;
            {
                std::lock_guard lock(blob.mutex_);
                if (blob.failed_) std::rethrow_exception(blob.failed_);
                generation = blob.generation_;
                was_complete = blob.complete_;
                if (was_complete) {
                    if (pos_ >= blob.size_) return 0;
                    n = static_cast<size_t>(std::min<uint64_t>(n, blob.size_ - pos_));
                }
            }
            ssize_t got = ::pread(blob.info_.file->get(), buf, n, static_cast<off_t>(pos_));
            if (got < 0 && errno == EINTR) continue;
            if (got < 0) throw_errno(blob.info_.name);
            if (got > 0) {
                pos_ += static_cast<uint64_t>(got);
                return static_cast<size_t>(got);
            }
            // The file ends before the verified end: someone cut it short.
            if (was_complete) throw Error(blob.info_.name + ": unexpected end of file");
            if (blob.empty_read_hook_) blob.empty_read_hook_();
            std::unique_lock lock(blob.mutex_);
            if (blob.failed_) std::rethrow_exception(blob.failed_);
            // Complete since the read: the bytes up to the end are there now.
            if (blob.complete_) continue;
            if (blob.generation_ != generation) continue;
            ++blob.waiting_;
            blob.changed_.wait(lock, [&] {
                return blob.generation_ != generation || blob.complete_ || blob.failed_;
            });
            --blob.waiting_;
        }
    }

  private:
    std::shared_ptr<ArrivingBlob> blob_;
    std::shared_ptr<void> keep_alive_;
    uint64_t pos_ = 0;
};

void ArrivingBlob::arrived() {
    {
        std::lock_guard lock(mutex_);
        ++generation_;
        if (waiting_ == 0) return;
    }
    changed_.notify_all();
}

void ArrivingBlob::complete(uint64_t size) {
    {
        std::lock_guard lock(mutex_);
        size_ = size;
        complete_ = true;
    }
    changed_.notify_all();
}

void ArrivingBlob::fail(std::exception_ptr error) {
    {
        std::lock_guard lock(mutex_);
        if (complete_ || failed_) return;
        failed_ = std::move(error);
    }
    changed_.notify_all();
}

bool ArrivingBlob::is_complete() const {
    std::lock_guard lock(mutex_);
    return complete_;
}

std::unique_ptr<Reader> ArrivingBlob::open(std::shared_ptr<void> keep_alive) {
    return std::make_unique<BlobReader>(shared_from_this(), std::move(keep_alive));
}

}  // namespace d2a
