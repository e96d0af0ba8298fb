#include "util/file.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <random>

#include "util/error.hpp"

namespace d2a {

FileDescriptor& FileDescriptor::operator=(FileDescriptor&& o) noexcept {
    if (this != &o) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = o.release();
    }
    return *this;
}

FileDescriptor::~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
}

FileDescriptor open_for_reading(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw_errno(path);
    return FileDescriptor(fd);
}

std::optional<std::string> read_file_if_present(const std::string& path, size_t limit) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    auto file = std::make_shared<FileDescriptor>(fd);
    RangeReader reader(file, 0, file_size(fd), path);
    return read_all(reader, limit, path);
}

FileDescriptor open_regular_file(const std::string& path) {
    FileDescriptor fd(
        ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    if (fd.valid() && !is_regular_file(fd.get())) return FileDescriptor();
    return fd;
}

std::optional<std::string> read_regular_file_if_present(const std::string& path, size_t limit) {
    FileDescriptor fd = open_regular_file(path);
    if (!fd.valid()) return std::nullopt;
    const uint64_t size = file_size(fd.get());
    RangeReader reader(std::make_shared<FileDescriptor>(std::move(fd)), 0, size, path);
    return read_all(reader, limit, path);
}

uint64_t file_size(int fd) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) throw_errno("stat");
    return static_cast<uint64_t>(st.st_size);
}

bool is_regular_file(int fd) {
    struct stat st {};
    return ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

size_t FdReader::read(void* buf, size_t n) {
    for (;;) {
        ssize_t got = ::read(fd_, buf, n);
        if (got >= 0) return static_cast<size_t>(got);
        if (errno != EINTR) throw_errno(name_);
    }
}

RangeReader::RangeReader(std::shared_ptr<FileDescriptor> file, uint64_t offset, uint64_t length,
                         std::string name)
    : file_(std::move(file)), pos_(offset), end_(offset + length), name_(std::move(name)) {}

size_t RangeReader::read(void* buf, size_t n) {
    if (pos_ >= end_) return 0;
    if (n > end_ - pos_) n = static_cast<size_t>(end_ - pos_);
    for (;;) {
        ssize_t got = ::pread(file_->get(), buf, n, static_cast<off_t>(pos_));
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) throw_errno(name_);
        if (got == 0) throw Error(name_ + ": unexpected end of file");
        pos_ += static_cast<uint64_t>(got);
        return static_cast<size_t>(got);
    }
}

uint64_t RangeReader::skip(uint64_t n) {
    uint64_t k = std::min(n, end_ - pos_);
    pos_ += k;
    return k;
}

bool write_to_pipe(int fd, std::string_view data) {
    sigset_t pipe_only, previous;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, &previous);
    sigset_t pending;
    sigpending(&pending);
    const bool already_pending = sigismember(&pending, SIGPIPE) == 1;
    bool ok = true;
    bool broken = false;
    size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            ok = false;
            broken = errno == EPIPE;
            break;
        }
        done += static_cast<size_t>(n);
    }
    if (broken && !already_pending) {
        timespec zero{0, 0};
        while (sigtimedwait(&pipe_only, nullptr, &zero) < 0 && errno == EINTR) {
        }
    }
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    return ok;
}

void write_fully(int fd, const void* buf, size_t n, const std::string& name) {
    const char* p = static_cast<const char*>(buf);
    while (n > 0) {
        ssize_t w = ::write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) throw_errno("writing " + name);
        p += w;
        n -= static_cast<size_t>(w);
    }
}

namespace {

std::string random_suffix() {
    std::random_device rd;
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::string s;
    for (int i = 0; i < 10; ++i) s += alphabet[rd() % (sizeof alphabet - 1)];
    return s;
}

// ".d2a-XXXXXXXXXX.tmp": hidden, and as short as it can be, so that any final name that
// fits in the directory has a temporary name that fits too.
std::string hidden_temp_name() {
    std::string name = ".d2a-";
    name.append(random_suffix()).append(".tmp");
    return name;
}

}  // namespace

AtomicFile::AtomicFile(std::filesystem::path final_path) : final_path_(std::move(final_path)) {
    std::filesystem::path dir = final_path_.parent_path();
    if (dir.empty()) dir = ".";
    dir_ =
        std::make_shared<FileDescriptor>(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir_->valid()) throw_errno("opening " + dir.string());
    create();
}

AtomicFile::AtomicFile(std::shared_ptr<FileDescriptor> dir, std::filesystem::path final_path)
    : dir_(std::move(dir)), final_path_(std::move(final_path)) {
    create();
}

void AtomicFile::create() {
    name_ = final_path_.filename().string();
    std::string shown = final_path_.parent_path().string();
    if (shown.empty()) shown = ".";
    int fd = ::openat(dir_->get(), ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0644);
    if (fd < 0) {
        // Filesystems without O_TMPFILE: a hidden name next to the target.
        for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
            temp_name_ = hidden_temp_name();
            fd = ::openat(dir_->get(), temp_name_.c_str(),
                          O_CREAT | O_EXCL | O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0644);
            if (fd < 0 && errno != EEXIST) {
                temp_name_.clear();
                throw_errno("creating a file in " + shown);
            }
        }
        if (fd < 0) {
            temp_name_.clear();
            throw Error("cannot create a temporary file in " + shown);
        }
    }
    fd_ = std::make_shared<FileDescriptor>(fd);
}

AtomicFile::~AtomicFile() {
    if (!committed_ && !temp_name_.empty()) ::unlinkat(dir_->get(), temp_name_.c_str(), 0);
}

void AtomicFile::write(const void* buf, size_t n) {
    write_fully(fd_->get(), buf, n, final_path_.string());
    written_ += n;
    // Start writing back what is done while the rest is produced, so that the fsync in
    // commit() waits for the last few MiB instead of the whole file. Only a hint: a
    // filesystem that refuses it still gets the fsync, which reports real errors.
    if (written_ - writeback_started_ >= kWritebackStep) {
        ::sync_file_range(fd_->get(), static_cast<off_t>(writeback_started_),
                          static_cast<off_t>(written_ - writeback_started_), SYNC_FILE_RANGE_WRITE);
        writeback_started_ = written_;
    }
}

std::unique_ptr<Reader> AtomicFile::read_back() const {
    return std::make_unique<RangeReader>(fd_, 0, written_, final_path_.string());
}

void AtomicFile::sync() {
    if (synced_) return;
    // 0644 less the umask, as a plain create would give.
    mode_t mask = ::umask(0);
    ::umask(mask);
    if (::fchmod(fd_->get(), 0666 & ~mask) != 0) throw_errno(final_path_.string());
    if (::fsync(fd_->get()) != 0) throw_errno("flushing " + final_path_.string());
    synced_ = true;
}

void AtomicFile::prepare() {
    if (prepared_) return;
    sync();
    std::string shown = final_path_.parent_path().string();
    if (shown.empty()) shown = ".";
    const long name_max = ::fpathconf(dir_->get(), _PC_NAME_MAX);
    if (name_max > 0 && name_.size() > static_cast<size_t>(name_max)) {
        throw Error(final_path_.string() + ": file name too long (" + std::to_string(name_.size()) +
                    " bytes; at most " + std::to_string(name_max) + " in " + shown + ")");
    }
    if (temp_name_.empty()) {
        // Link the anonymous file under a temp name; commit() renames it over the target
        // (linkat alone cannot replace an existing file).
        const std::string proc = "/proc/self/fd/" + std::to_string(fd_->get());
        for (int attempt = 0; attempt < 100; ++attempt) {
            std::string name = hidden_temp_name();
            if (::linkat(AT_FDCWD, proc.c_str(), dir_->get(), name.c_str(), AT_SYMLINK_FOLLOW) ==
                0) {
                temp_name_ = std::move(name);
                break;
            }
            if (errno != EEXIST) throw_errno("linking " + final_path_.string());
        }
        if (temp_name_.empty()) throw Error("cannot link " + final_path_.string());
    }
    prepared_ = true;
}

void AtomicFile::commit() {
    prepare();
    if (::renameat(dir_->get(), temp_name_.c_str(), dir_->get(), name_.c_str()) != 0) {
        int err = errno;
        ::unlinkat(dir_->get(), temp_name_.c_str(), 0);
        temp_name_.clear();
        errno = err;
        throw_errno("renaming into " + final_path_.string());
    }
    committed_ = true;
}

std::shared_ptr<FileDescriptor> open_directory_below(const std::filesystem::path& dir,
                                                     const std::filesystem::path& sub) {
    const std::filesystem::path root = dir.empty() ? "." : dir;
    auto fd =
        std::make_shared<FileDescriptor>(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd->valid()) {
        if (errno == ENOTDIR)
            throw Error("output directory " + root.string() + " is not a directory");
        throw_errno("output directory " + root.string());
    }
    std::filesystem::path shown = root;
    for (const auto& part : sub.relative_path()) {
        const std::string name = part.string();
        if (name.empty() || name == ".") continue;
        if (name == "..") throw Error(shown.string() + ": \"..\" in an output path");
        shown /= name;
        if (::mkdirat(fd->get(), name.c_str(), 0777) != 0 && errno != EEXIST)
            throw_errno("creating " + shown.string());
        auto next = std::make_shared<FileDescriptor>(
            ::openat(fd->get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!next->valid()) {
            const int err = errno;
            struct stat st {};
            if (::fstatat(fd->get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                S_ISLNK(st.st_mode)) {
                throw Error(shown.string() +
                            " is a symbolic link, not a directory: nothing is written through it");
            }
            errno = err;
            throw_errno(shown.string());
        }
        fd = std::move(next);
    }
    return fd;
}

FileDescriptor open_regular_file_at(const FileDescriptor& dir, const std::string& name) {
    FileDescriptor fd(::openat(dir.get(), name.c_str(),
                               O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    if (fd.valid() && !is_regular_file(fd.get())) return FileDescriptor();
    return fd;
}

FileDescriptor make_scratch_file() {
    const char* env = std::getenv("TMPDIR");
    std::string dir = env && *env ? env : "/tmp";
    int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0) return FileDescriptor(fd);
    std::string tmpl = dir + "/docker2aci-XXXXXX";
    fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
    if (fd < 0) throw_errno("creating a scratch file in " + dir);
    ::unlink(tmpl.c_str());
    return FileDescriptor(fd);
}

}  // namespace d2a
