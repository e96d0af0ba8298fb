// Reads a stream ahead on a thread of its own, so that whatever the stream does per byte
// (decompression, digest checks, file reads) overlaps with the consumer's work. When the
// system refuses the thread, reads go straight to the stream.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "util/stream.hpp"

namespace d2a {

class PrefetchReader final : public Reader {
  public:
    // Keeps up to `depth` chunks of `chunk_size` bytes ready.
    explicit PrefetchReader(std::unique_ptr<Reader> inner, size_t chunk_size = 1 << 20,
                            size_t depth = 4);
    PrefetchReader(const PrefetchReader&) = delete;
    PrefetchReader& operator=(const PrefetchReader&) = delete;
    // Stops the reading thread; the inner stream is abandoned where it stands.
    ~PrefetchReader() override;

    // An error of the inner stream is thrown here once the bytes before it are consumed.
    // The inner stream is closed on the reading thread as soon as it has ended or failed.
    size_t read(void* buf, size_t n) override;

  private:
    void produce();
    bool next_chunk();

    std::unique_ptr<Reader> inner_;
    const size_t chunk_size_;
    const size_t depth_;
    std::mutex mutex_;
    std::condition_variable changed_;
    // Chunks hold chunk_size_ bytes, `size` of them read; a consumed chunk's buffer goes
    // back to `spare_` for the next read, neither allocated nor zeroed again.
    struct Chunk {
        std::unique_ptr<char[]> bytes;
        size_t size = 0;
    };
    std::deque<Chunk> ready_;
    std::vector<std::unique_ptr<char[]>> spare_;
    bool inner_done_ = false;  // no chunk will follow those in ready_
    std::exception_ptr error_;
    bool stopping_ = false;
    Chunk current_;
    size_t current_pos_ = 0;
    std::thread thread_;  // started once everything above exists; not joinable if refused
};

}  // namespace d2a
