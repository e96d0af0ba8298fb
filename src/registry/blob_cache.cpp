#include "registry/blob_cache.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
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

BlobCache::BlobCache(std::filesystem::path dir) : dir_(std::move(dir)) {
    std::error_code ec;
    std::filesystem::create_directories(dir_ / "tmp", ec);
    if (ec) throw Error("cache directory " + dir_.string() + ": " + ec.message());
    remove_abandoned_downloads();
}

// A download that was killed leaves its temp file. One untouched for a day is abandoned:
// a live download writes all the time. (Not by process id: a cache shared by containers
// or hosts sees ids of other pid namespaces.)
void BlobCache::remove_abandoned_downloads() const {
    const auto cutoff = std::filesystem::file_time_type::clock::now() - std::chrono::hours(24);
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir_ / "tmp", ec)) {
        std::error_code entry_ec;
        if (!entry.is_regular_file(entry_ec)) continue;
        auto modified = entry.last_write_time(entry_ec);
        if (!entry_ec && modified < cutoff) std::filesystem::remove(entry.path(), entry_ec);
    }
}

std::filesystem::path BlobCache::path_for(const Digest& digest) const {
    return dir_ / "blobs" / digest.algorithm_name() / digest.hex;
}

std::filesystem::path BlobCache::temp_path(const Digest& digest) const {
    std::random_device rd;
    return dir_ / "tmp" /
           (digest.hex + "." + std::to_string(::getpid()) + "." + std::to_string(rd()));
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
    auto temp = temp_path(digest);
    CachedBlob blob;
    int fd = ::open(temp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) throw_errno("cache: " + temp.string());
    blob.file = std::make_shared<FileDescriptor>(fd);
    try {
        fetch(*blob.file, temp.string());
    } catch (...) {  // the partial download goes; the error goes on to the caller
        std::error_code ec;
        std::filesystem::remove(temp, ec);
        throw;
    }
    blob.path = path_for(digest);
    blob.size = file_size(fd);
    std::error_code ec;
    std::filesystem::create_directories(blob.path.parent_path(), ec);
    std::filesystem::rename(temp, blob.path, ec);
    if (ec) {
        std::error_code ignored;
        std::filesystem::remove(temp, ignored);
        throw Error("cache: storing " + digest.str() + ": " + ec.message());
    }
    if (fetched) *fetched = true;
    return blob;
}

void BlobCache::put(const Digest& digest, const std::string& bytes) const {
    auto temp = temp_path(digest);
    {
        std::ofstream out(temp, std::ios::binary);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        if (!out) throw Error("cache: cannot write " + temp.string());
    }
    auto final_path = path_for(digest);
    std::error_code ec;
    std::filesystem::create_directories(final_path.parent_path(), ec);
    std::filesystem::rename(temp, final_path, ec);
    if (ec) throw Error("cache: storing " + digest.str() + ": " + ec.message());
}

}  // namespace d2a
