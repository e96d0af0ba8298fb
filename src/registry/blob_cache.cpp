#include "registry/blob_cache.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <random>
#include <set>
#include <vector>

#include "util/error.hpp"
#include "util/file.hpp"

namespace d2a {

bool file_has_digest(const FileDescriptor& file, const Digest& digest) {
    Hasher h(digest.algorithm);
    std::vector<char> buf(1 << 20);
    off_t offset = 0;
    for (;;) {
        ssize_t n = ::pread(file.get(), buf.data(), buf.size(), offset);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return false;
        if (n == 0) break;
        h.update(buf.data(), static_cast<size_t>(n));
        offset += n;
    }
    return h.hex_digest() == digest.hex;
}

namespace {

// Abandoned partial downloads older than this are removed when a cache is opened; younger
// ones wait for a rerun to resume them.
constexpr auto kKeepAbandonedFor = std::chrono::hours(1);

// Entries are opened without following a link, without waiting on a FIFO's writer and
// without making a terminal ours; what they are is decided by fstat afterwards.
constexpr int kEntryFlags = O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;

bool same_file(const struct stat& a, const struct stat& b) {
    return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// The kind of file the cache makes: regular, one link, the running user's. Anything else
// in tmp/ was put there by someone else and is never resumed, truncated or removed.
bool made_by_us(const struct stat& st) {
    return S_ISREG(st.st_mode) && st.st_nlink == 1 && st.st_uid == ::geteuid();
}

std::string describe(const struct stat& st) {
    if (S_ISLNK(st.st_mode)) return "a symbolic link";
    if (S_ISDIR(st.st_mode)) return "a directory";
    if (S_ISFIFO(st.st_mode)) return "a FIFO";
    if (S_ISSOCK(st.st_mode)) return "a socket";
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) return "a device";
    if (!S_ISREG(st.st_mode)) return "not a regular file";
    if (st.st_uid != ::geteuid()) return "another user's file";
    if (st.st_nlink != 1) return "a file with " + std::to_string(st.st_nlink) + " links";
    return "a regular file";
}

// "<hex>.<anything>": the only names the cache gives its downloads.
bool download_name(std::string_view name) {
    const size_t dot = name.find('.');
    if (dot != 64 && dot != 128) return false;
    for (size_t i = 0; i < dot; ++i) {
        const char c = name[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

// The names in a directory, read through its descriptor (a copy: readdir moves its own).
std::vector<std::string> list(const FileDescriptor& dir) {
    std::vector<std::string> names;
    const int fd = ::fcntl(dir.get(), F_DUPFD_CLOEXEC, 0);
    if (fd < 0) return names;
    DIR* d = ::fdopendir(fd);
    if (!d) {
        ::close(fd);
        return names;
    }
    ::rewinddir(d);
    while (const dirent* e = ::readdir(d)) {
        std::string_view name = e->d_name;
        if (name != "." && name != "..") names.emplace_back(name);
    }
    ::closedir(d);
    return names;
}

}  // namespace

// The descriptors of the cache's directories, opened once; every name the cache uses is
// resolved relative to them.
struct BlobCache::Dirs {
    FileDescriptor root;
    FileDescriptor tmp;
    FileDescriptor blobs;
    FileDescriptor sha256;
    FileDescriptor sha512;     // opened when first needed: sha512 blobs are rare
    std::string sha512_error;  // why it could not be, if so
    std::function<void(const std::string&)> notice;
    std::mutex noted_mutex;
    std::set<std::string> noted;  // each told once

    [[nodiscard]] const FileDescriptor& for_algorithm(HashAlgorithm a) const {
        if (a != HashAlgorithm::sha512) return sha256;
        if (!sha512.valid()) throw Error(sha512_error);
        return sha512;
    }
};

// A download in progress: its temp file, locked for as long as the descriptor lives.
struct BlobCache::Download {
    std::string name;  // in tmp/
    std::filesystem::path path;
    std::shared_ptr<FileDescriptor> file;
};

namespace {

// DIR/NAME made if missing and opened as a directory without following a link.
FileDescriptor open_subdirectory(const FileDescriptor& parent, const char* name,
                                 const std::filesystem::path& shown,
                                 const std::filesystem::path& cache) {
    if (::mkdirat(parent.get(), name, 0777) != 0 && errno != EEXIST) {
        throw Error("cache directory " + cache.string() + ": creating " + shown.string() + ": " +
                    std::strerror(errno));
    }
    FileDescriptor fd(
        ::openat(parent.get(), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (fd.valid()) return fd;
    const int err = errno;
    struct stat st {};
    if (::fstatat(parent.get(), name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (S_ISLNK(st.st_mode)) {
            throw Error("cache directory " + cache.string() + ": " + shown.string() +
                        " is a symbolic link, not a directory");
        }
        if (!S_ISDIR(st.st_mode))
            throw Error("cache directory " + cache.string() + ": " + shown.string() +
                        " is not a directory");
    }
    throw Error("cache directory " + cache.string() + ": " + shown.string() + ": " +
                std::strerror(err));
}

}  // namespace

BlobCache::BlobCache(std::filesystem::path dir, std::function<void(const std::string&)> notice)
    : dir_(std::move(dir)), dirs_(std::make_shared<Dirs>()) {
    dirs_->notice = std::move(notice);
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    dirs_->root = FileDescriptor(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dirs_->root.valid()) throw_errno("cache directory " + dir_.string());
    dirs_->tmp = open_subdirectory(dirs_->root, "tmp", dir_ / "tmp", dir_);
    dirs_->blobs = open_subdirectory(dirs_->root, "blobs", dir_ / "blobs", dir_);
    dirs_->sha256 = open_subdirectory(dirs_->blobs, "sha256", dir_ / "blobs" / "sha256", dir_);
    try {
        dirs_->sha512 = open_subdirectory(dirs_->blobs, "sha512", dir_ / "blobs" / "sha512", dir_);
    } catch (const Error& e) {
        dirs_->sha512_error = e.what();
    }
    remove_abandoned_downloads();
}

void BlobCache::note(const std::string& message) const {
    if (!dirs_->notice) return;
    {
        std::lock_guard lock(dirs_->noted_mutex);
        if (!dirs_->noted.insert(message).second) return;
    }
    dirs_->notice(message);
}

// Not by process id or age alone: a cache shared by containers or hosts sees ids of other
// pid namespaces, and a slow download may not touch its file for minutes. The writer's
// flock says whether it lives.
void BlobCache::remove_abandoned_downloads() const {
    const auto cutoff = std::chrono::system_clock::now() - kKeepAbandonedFor;
    const int tmp = dirs_->tmp.get();
    for (const std::string& name : list(dirs_->tmp)) {
        struct stat st {};
        if (::fstatat(tmp, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        if (!download_name(name) || !made_by_us(st)) {
            note("cache: left alone " + (dir_ / "tmp" / name).string() + " (" +
                 (download_name(name) ? describe(st) : "not a name the cache gives") + ")");
            continue;
        }
        const auto modified = std::chrono::system_clock::from_time_t(st.st_mtim.tv_sec);
        if (modified >= cutoff) continue;
        FileDescriptor file(::openat(tmp, name.c_str(), O_RDONLY | kEntryFlags));
        struct stat opened {};
        if (!file.valid() || ::fstat(file.get(), &opened) != 0 || !same_file(st, opened) ||
            !made_by_us(opened) || ::flock(file.get(), LOCK_EX | LOCK_NB) != 0) {
            continue;
        }
        // Removed only if the name still leads to the file now locked.
        struct stat now {};
        if (::fstatat(tmp, name.c_str(), &now, AT_SYMLINK_NOFOLLOW) == 0 && same_file(now, opened))
            ::unlinkat(tmp, name.c_str(), 0);
    }
}

std::filesystem::path BlobCache::path_for(const Digest& digest) const {
    return dir_ / "blobs" / digest.algorithm_name() / digest.hex;
}

std::optional<BlobCache::Download> BlobCache::claim_abandoned(const Digest& digest) const {
    const std::string prefix = digest.hex + ".";
    const int tmp = dirs_->tmp.get();
    for (const std::string& name : list(dirs_->tmp)) {
        if (name.rfind(prefix, 0) != 0) continue;
        auto file =
            std::make_shared<FileDescriptor>(::openat(tmp, name.c_str(), O_RDWR | kEntryFlags));
        struct stat st {};
        if (!file->valid() || ::fstat(file->get(), &st) != 0 || !made_by_us(st)) {
            struct stat named {};
            if (::fstatat(tmp, name.c_str(), &named, AT_SYMLINK_NOFOLLOW) == 0) {
                note("cache: not resumed " + (dir_ / "tmp" / name).string() + " (" +
                     describe(named) + ")");
            }
            continue;
        }
        if (::flock(file->get(), LOCK_EX | LOCK_NB) != 0) continue;  // a live download
        struct stat now {};
        if (::fstatat(tmp, name.c_str(), &now, AT_SYMLINK_NOFOLLOW) != 0 || !same_file(now, st))
            continue;  // removed or replaced since it was opened
        return Download{name, dir_ / "tmp" / name, std::move(file)};
    }
    return std::nullopt;
}

BlobCache::Download BlobCache::new_download(const Digest& digest) const {
    std::random_device rd;
    const int tmp = dirs_->tmp.get();
    for (;;) {
        Download d;
        d.name = digest.hex + "." + std::to_string(::getpid()) + "." + std::to_string(rd());
        d.path = dir_ / "tmp" / d.name;
        int fd = ::openat(tmp, d.name.c_str(), O_RDWR | O_CREAT | O_EXCL | kEntryFlags, 0666);
        if (fd < 0 && errno == EEXIST) continue;
        if (fd < 0) throw_errno("cache: " + d.path.string());
        d.file = std::make_shared<FileDescriptor>(fd);
        // Locked before anything is written; if a cleaner took it in between, make another.
        struct stat st {};
        struct stat now {};
        if (::flock(fd, LOCK_EX | LOCK_NB) == 0 && ::fstat(fd, &st) == 0 &&
            ::fstatat(tmp, d.name.c_str(), &now, AT_SYMLINK_NOFOLLOW) == 0 && same_file(st, now)) {
            return d;
        }
    }
}

void BlobCache::discard(const Download& download) const {
    // Only a name inside tmp/: whatever it leads to now, nothing outside is touched.
    ::unlinkat(dirs_->tmp.get(), download.name.c_str(), 0);
}

bool BlobCache::commit(Download& download, const Digest& digest) const {
    const std::filesystem::path final_path = path_for(digest);
    const FileDescriptor& dir = dirs_->for_algorithm(digest.algorithm);
    if (::renameat(dirs_->tmp.get(), download.name.c_str(), dir.get(), digest.hex.c_str()) == 0) {
        download.path = final_path;
        return true;
    }
    const int err = errno;
    discard(download);
    // The name is held by something a rename cannot replace (a directory, a file of
    // another user's in a sticky directory): the verified blob is used all the same.
    if (err == EISDIR || err == ENOTEMPTY || err == EEXIST || err == EPERM || err == EBUSY) {
        struct stat st {};
        const std::string what =
            ::fstatat(dir.get(), digest.hex.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0
                ? describe(st)
                : std::strerror(err);
        note("cache: " + final_path.string() + " is " + what +
             ", which the cache cannot replace: " + digest.str() + " used without caching it");
        return false;
    }
    throw Error("cache: storing " + digest.str() + " in " + final_path.parent_path().string() +
                ": " + std::strerror(err));
}

std::optional<CachedBlob> BlobCache::find(const Digest& digest) const {
    CachedBlob blob;
    blob.path = path_for(digest);
    const FileDescriptor& dir = dirs_->for_algorithm(digest.algorithm);
    const int fd = ::openat(dir.get(), digest.hex.c_str(), O_RDONLY | kEntryFlags);
    if (fd < 0) {
        struct stat st {};
        if (errno != ENOENT &&
            ::fstatat(dir.get(), digest.hex.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0)
            note("cache: " + blob.path.string() + " is " + describe(st) + "; fetched again");
        return std::nullopt;
    }
    blob.file = std::make_shared<FileDescriptor>(fd);
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        note("cache: " + blob.path.string() + " is " + describe(st) + "; fetched again");
        return std::nullopt;
    }
    if (!file_has_digest(*blob.file, digest)) {
        note("cache: " + blob.path.string() + " does not hold " + digest.str() + "; fetched again");
        return std::nullopt;
    }
    blob.size = static_cast<uint64_t>(st.st_size);
    return blob;
}

CachedBlob BlobCache::get(
    const Digest& digest,
    const std::function<void(const FileDescriptor&, const std::string&)>& fetch,
    bool* fetched) const {
    if (fetched) *fetched = false;
    if (auto hit = find(digest)) return *hit;
    std::optional<Download> resumed = claim_abandoned(digest);
    Download download = resumed ? std::move(*resumed) : new_download(digest);
    try {
        try {
            fetch(*download.file, download.path.string());
        } catch (const Error&) {
            // A left-over prefix may be what failed (bytes from another server, say):
            // start over once from nothing before giving up. The file was checked to be
            // the cache's own when it was claimed; it still is (one link) or is left.
            if (!resumed) throw;
            struct stat st {};
            if (::fstat(download.file->get(), &st) != 0 || !made_by_us(st)) throw;
            if (::ftruncate(download.file->get(), 0) != 0) throw_errno(download.path.string());
            fetch(*download.file, download.path.string());
        }
    } catch (...) {  // the partial download goes; the error goes on to the caller
        discard(download);
        throw;
    }
    const uint64_t size = file_size(download.file->get());
    commit(download, digest);
    if (fetched) *fetched = true;
    return CachedBlob{download.path, download.file, size};
}

void BlobCache::put(const Digest& digest, const std::string& bytes) const {
    Download download = new_download(digest);
    try {
        write_fully(download.file->get(), bytes.data(), bytes.size(), download.path.string());
    } catch (...) {  // nothing half-written stays; the error goes on to the caller
        discard(download);
        throw;
    }
    commit(download, digest);
}

}  // namespace d2a
