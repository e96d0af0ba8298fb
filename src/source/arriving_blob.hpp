// A blob that one download writes into a file while readers read it from the start. The
// readers follow the growing file and see its end only once the download has verified it;
// a failure of the download is thrown to every reader still reading.
//
// Why a reader never mistakes "not written yet" for "the end": a read that finds no bytes
// re-checks, under the lock, what it knew before reading. If the blob was complete before
// the read, the file really ends there (or was cut short by someone else: an error). If it
// became complete after the read, the bytes up to the recorded end were written before
// `complete()` was called, so the reader reads again. Otherwise it waits for more bytes,
// the end, or a failure.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "util/digest.hpp"
#include "util/file.hpp"
#include "util/stream.hpp"

namespace d2a {

class ArrivingBlob : public std::enable_shared_from_this<ArrivingBlob> {
  public:
    struct Info {
        std::string name;  // for messages
        std::shared_ptr<FileDescriptor> file;
        // What the download checks before complete(): the digest, and the size if known.
        Digest digest;
        std::optional<uint64_t> checked_size;
        // An unnamed scratch file that only the download writes, each byte once and hashed
        // as written: what a reader took from it is what was verified, so a reader's stream
        // ends verified. A cache file, which others can open, is not.
        bool private_file = false;
    };

    explicit ArrivingBlob(Info info) : info_(std::move(info)) {}
    ArrivingBlob(const ArrivingBlob&) = delete;
    ArrivingBlob& operator=(const ArrivingBlob&) = delete;

    // The writer's side. Bytes were written at the end of the file.
    void arrived();
    // The download is complete and verified; the blob is `size` bytes. Every byte before
    // `size` must already be in the file.
    void complete(uint64_t size);
    // The download failed (or was cancelled): readers throw `error`. Ignored once complete.
    void fail(std::exception_ptr error);

    [[nodiscard]] bool is_complete() const;
    [[nodiscard]] const std::string& name() const { return info_.name; }

    // A reader from the blob's first byte. `keep_alive` is held for the reader's lifetime
    // (the object whose thread runs the download, say).
    std::unique_ptr<Reader> open(std::shared_ptr<void> keep_alive = {});

    // Test seam: called by a reader after a read that found no bytes, before it looks
    // again under the lock; the window in which a download may write and complete.
    void set_empty_read_hook(std::function<void()> hook) { empty_read_hook_ = std::move(hook); }

  private:
    class BlobReader;

    const Info info_;
    std::function<void()> empty_read_hook_;
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    uint64_t size_ = 0;      // once complete
    bool complete_ = false;  // downloaded and verified
    std::exception_ptr failed_;
    int waiting_ = 0;          // readers at the end of what has arrived
    uint64_t generation_ = 0;  // bumped whenever bytes arrive
};

}  // namespace d2a
