// Files: an owning descriptor, readers over a file or a byte range of it, and output files
// that appear under their final name only once complete.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "util/stream.hpp"

namespace d2a {

class FileDescriptor {
  public:
    FileDescriptor() = default;
    explicit FileDescriptor(int fd) : fd_(fd) {}
    FileDescriptor(FileDescriptor&& o) noexcept : fd_(o.release()) {}
    FileDescriptor& operator=(FileDescriptor&& o) noexcept;
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    ~FileDescriptor();

    [[nodiscard]] int get() const { return fd_; }
    int release() {
        int fd = fd_;
        fd_ = -1;
        return fd;
    }
    [[nodiscard]] bool valid() const { return fd_ >= 0; }

  private:
    int fd_ = -1;
};

FileDescriptor open_for_reading(const std::string& path);
// The whole of a file of at most `limit` bytes (larger is an error), or nothing when it
// cannot be opened: for optional settings files such as config.json or CA bundles.
std::optional<std::string> read_file_if_present(const std::string& path, size_t limit);
// The same for a file in a directory others may write: a symbolic link, a FIFO or anything
// else that is not a regular file is "not present", and opening it never blocks.
std::optional<std::string> read_regular_file_if_present(const std::string& path, size_t limit);
// Opens a regular file for reading without following a final link or waiting on a FIFO
// (O_NOFOLLOW|O_NONBLOCK, then fstat); an invalid descriptor for anything else.
FileDescriptor open_regular_file(const std::string& path);
uint64_t file_size(int fd);
bool is_regular_file(int fd);

// Sequential reads from a descriptor it does not own (stdin, a pipe or a file).
class FdReader final : public Reader {
  public:
    FdReader(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
    size_t read(void* buf, size_t n) override;

  private:
    int fd_;
    std::string name_;
};

// Reads bytes [offset, offset+length) of a shared file with pread.
class RangeReader final : public Reader {
  public:
    RangeReader(std::shared_ptr<FileDescriptor> file, uint64_t offset, uint64_t length,
                std::string name);
    size_t read(void* buf, size_t n) override;
    uint64_t skip(uint64_t n) override;

  private:
    std::shared_ptr<FileDescriptor> file_;
    uint64_t pos_;
    uint64_t end_;
    std::string name_;
};

// Writes all bytes to a pipe; false when the reader has gone (EPIPE) or another error.
// The SIGPIPE such a write raises is kept from the process (blocked in this thread, then
// taken back), so that a child exiting early cannot end it.
bool write_to_pipe(int fd, std::string_view data);

// Writes all bytes to a descriptor.
void write_fully(int fd, const void* buf, size_t n, const std::string& name);

// An output file invisible until commit(): an anonymous O_TMPFILE where the filesystem has
// it, else a hidden temp name; destroyed without commit, nothing is left behind. Its
// directory is opened once, when it is made: every later step (the temporary name, the
// rename, a sibling such as its signature) happens through that descriptor, so a link
// planted in the path meanwhile cannot send the file anywhere else.
class AtomicFile final : public Writer {
  public:
    // In the directory `final_path` names (followed as given: the caller's own path).
    explicit AtomicFile(std::filesystem::path final_path);
    // In the open directory `dir`, named `final_path.filename()`; `final_path` is how
    // messages name it.
    AtomicFile(std::shared_ptr<FileDescriptor> dir, std::filesystem::path final_path);
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;
    ~AtomicFile() override;

    void write(const void* buf, size_t n) override;
    // The bytes written so far, read from the file itself (for signing what will be put
    // in place, not what a name points to later).
    [[nodiscard]] std::unique_ptr<Reader> read_back() const;
    // Flushes to disk; commit() then only renames. No write may follow.
    void sync();
    // Flushes to disk, checks that the final name can be made and gives the file its
    // hidden temporary name: after this, commit() is one rename. A caller that puts
    // several files in place prepares them all before the first commit, so that a name
    // that cannot be written fails before anything is replaced.
    void prepare();
    // Prepares, then moves the file into place, replacing any file of that name.
    void commit();
    [[nodiscard]] const std::filesystem::path& path() const { return final_path_; }
    // The directory it goes to, open.
    [[nodiscard]] const std::shared_ptr<FileDescriptor>& directory() const { return dir_; }

  private:
    void create();
    std::shared_ptr<FileDescriptor> dir_;
    std::filesystem::path final_path_;
    std::string name_;       // final_path_'s file name, in dir_
    std::string temp_name_;  // in dir_; empty while anonymous
    std::shared_ptr<FileDescriptor> fd_;
    bool synced_ = false;
    bool prepared_ = false;
    bool committed_ = false;
    static constexpr uint64_t kWritebackStep = 8 << 20;
    uint64_t written_ = 0;
    uint64_t writeback_started_ = 0;
};

// DIR/SUB (SUB relative, possibly several levels) opened as a directory, each missing level
// made, no level followed if it is a symbolic link (an error naming it): a directory others
// may write cannot redirect what is written below it. DIR itself is followed as given.
std::shared_ptr<FileDescriptor> open_directory_below(const std::filesystem::path& dir,
                                                     const std::filesystem::path& sub);
// A regular file NAME in the open directory, opened as open_regular_file does.
FileDescriptor open_regular_file_at(const FileDescriptor& dir, const std::string& name);

// An unnamed scratch file (deleted on close) in TMPDIR, for spooling non-seekable input.
FileDescriptor make_scratch_file();

}  // namespace d2a
