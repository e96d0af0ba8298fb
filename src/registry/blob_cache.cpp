#include "registry/blob_cache.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <random>
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

// Takes the writer's lock on an open temp file, if nobody holds it, and checks that the
// name still leads to this file (a cleaner may have removed it between open and lock).
bool lock_if_abandoned(const FileDescriptor& file, const std::filesystem::path& path) {
    if (::flock(file.get(), LOCK_EX | LOCK_NB) != 0) return false;
    struct stat by_fd {};
    struct stat by_name {};
    return ::fstat(file.get(), &by_fd) == 0 && ::lstat(path.c_str(), &by_name) == 0 &&
           by_fd.st_dev == by_name.st_dev && by_fd.st_ino == by_name.st_ino;
}

void ensure_directory(const std::filesystem::path& dir, const std::filesystem::path& cache) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (!ec && std::filesystem::is_directory(dir, ec)) return;
    std::error_code exists_ec;
    const bool other_kind =
        std::filesystem::exists(dir, exists_ec) && !std::filesystem::is_directory(dir, exists_ec);
    throw Error("cache directory " + cache.string() + ": " + dir.string() +
                (other_kind ? " is not a directory" : ": " + ec.message()));
}

}  // namespace

// A download in progress: its temp file, locked for as long as the descriptor lives.
struct BlobCache::Download {
    std::filesystem::path path;
    std::shared_ptr<FileDescriptor> file;
};

BlobCache::BlobCache(std::filesystem::path dir) : dir_(std::move(dir)) {
    ensure_directory(dir_ / "tmp", dir_);
    ensure_directory(dir_ / "blobs", dir_);
    remove_abandoned_downloads();
}

// Not by process id or age alone: a cache shared by containers or hosts sees ids of other
// pid namespaces, and a slow download may not touch its file for minutes. The writer's
// flock says whether it lives.
void BlobCache::remove_abandoned_downloads() const {
    const auto cutoff = std::filesystem::file_time_type::clock::now() - kKeepAbandonedFor;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir_ / "tmp", ec)) {
        std::error_code entry_ec;
        if (!entry.is_regular_file(entry_ec)) continue;
        auto modified = entry.last_write_time(entry_ec);
        if (entry_ec || modified >= cutoff) continue;
        FileDescriptor file(::open(entry.path().c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
        if (file.valid() && lock_if_abandoned(file, entry.path()))
            std::filesystem::remove(entry.path(), entry_ec);
    }
}

std::filesystem::path BlobCache::path_for(const Digest& digest) const {
    return dir_ / "blobs" / digest.algorithm_name() / digest.hex;
}

std::optional<BlobCache::Download> BlobCache::claim_abandoned(const Digest& digest) const {
    const std::string prefix = digest.hex + ".";
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir_ / "tmp", ec)) {
        if (entry.path().filename().string().rfind(prefix, 0) != 0) continue;
        std::error_code entry_ec;
        if (!entry.is_regular_file(entry_ec)) continue;
        auto file = std::make_shared<FileDescriptor>(
            ::open(entry.path().c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW));
        if (file->valid() && lock_if_abandoned(*file, entry.path()))
            return Download{entry.path(), std::move(file)};
    }
    return std::nullopt;
}

BlobCache::Download BlobCache::new_download(const Digest& digest) const {
    std::random_device rd;
    for (;;) {
        Download d;
        d.path = dir_ / "tmp" /
                 (digest.hex + "." + std::to_string(::getpid()) + "." + std::to_string(rd()));
        int fd = ::open(d.path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno == EEXIST) continue;
        if (fd < 0) throw_errno("cache: " + d.path.string());
        d.file = std::make_shared<FileDescriptor>(fd);
        // Locked before anything is written; if a cleaner took it in between, make another.
        if (lock_if_abandoned(*d.file, d.path)) return d;
    }
}

void BlobCache::commit(Download& download, const Digest& digest) const {
    std::filesystem::path final_path = path_for(digest);
    std::error_code ec;
    std::filesystem::create_directories(final_path.parent_path(), ec);
    if (!ec) std::filesystem::rename(download.path, final_path, ec);
    if (ec) {
        std::error_code ignored;
        std::filesystem::remove(download.path, ignored);
        throw Error("cache: storing " + digest.str() + " in " + final_path.parent_path().string() +
                    ": " + ec.message());
    }
    download.path = final_path;
}

std::optional<CachedBlob> BlobCache::find(const Digest& digest) const {
    CachedBlob blob;
    blob.path = path_for(digest);
    int fd = ::open(blob.path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return std::nullopt;
    blob.file = std::make_shared<FileDescriptor>(fd);
    if (is_regular_file(fd) && file_has_digest(*blob.file, digest)) {
        blob.size = file_size(fd);
        return blob;
    }
    std::error_code ec;
    std::filesystem::remove(blob.path, ec);  // corrupt: fetch it again
    return std::nullopt;
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
            // start over once from nothing before giving up.
            if (!resumed) throw;
            if (::ftruncate(download.file->get(), 0) != 0) throw_errno(download.path.string());
            fetch(*download.file, download.path.string());
        }
    } catch (...) {  // the partial download goes; the error goes on to the caller
        std::error_code ec;
        std::filesystem::remove(download.path, ec);
        throw;
    }
    commit(download, digest);
    if (fetched) *fetched = true;
    return CachedBlob{download.path, download.file, file_size(download.file->get())};
}

void BlobCache::put(const Digest& digest, const std::string& bytes) const {
    Download download = new_download(digest);
    try {
        write_fully(download.file->get(), bytes.data(), bytes.size(), download.path.string());
    } catch (...) {  // nothing half-written stays; the error goes on to the caller
        std::error_code ec;
        std::filesystem::remove(download.path, ec);
        throw;
    }
    commit(download, digest);
}

}  // namespace d2a
