// A content-addressed blob store shared by runs and by processes: DIR/blobs/<alg>/<hex>.
// Entries appear by atomic rename once verified; a corrupt entry is detected on use and
// replaced. Downloads go to DIR/tmp/<hex>.<unique>, each held under flock(2) by its
// writer while it lives: a partial file nobody holds was left by a killed download. The
// next download of the same blob resumes from it; one nobody resumes within an hour is
// removed when a cache is opened. No lock is held on a blob itself: two processes
// fetching one blob both download it and the second rename wins with identical bytes.
// Files are created 0666 less the umask, so a group sharing a cache can share its blobs.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>

#include "util/digest.hpp"
#include "util/file.hpp"

namespace d2a {

// A cached blob, verified through the descriptor held here: readers use the descriptor,
// never the name again, so a file swapped in the cache afterwards is never read.
struct CachedBlob {
    std::filesystem::path path;
    std::shared_ptr<FileDescriptor> file;
    uint64_t size = 0;
};

class BlobCache {
  public:
    explicit BlobCache(std::filesystem::path dir);

    // The cached blob for `digest`, verified, or nothing (a corrupt entry is removed).
    std::optional<CachedBlob> find(const Digest& digest) const;
    // Downloads through `fetch` unless cached. `fetch` fills the given open file (named
    // `name` in messages) from its current size on, and verifies it; the blob is then
    // renamed into the cache. A file left by a killed download of the same blob is resumed
    // (and started over once if that fails). `fetched` tells whether it was downloaded.
    CachedBlob get(const Digest& digest,
                   const std::function<void(const FileDescriptor& file, const std::string& name)>& fetch,
                   bool* fetched = nullptr) const;
    // Stores bytes already verified in memory (small blobs such as configs).
    void put(const Digest& digest, const std::string& bytes) const;

  private:
    struct Download;
    void remove_abandoned_downloads() const;
    std::filesystem::path path_for(const Digest& digest) const;
    std::optional<Download> claim_abandoned(const Digest& digest) const;
    Download new_download(const Digest& digest) const;
    void commit(Download& download, const Digest& digest) const;
    std::filesystem::path dir_;
};

// True when the open file's content has this digest.
bool file_has_digest(const FileDescriptor& file, const Digest& digest);

}  // namespace d2a
