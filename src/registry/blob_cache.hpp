// A content-addressed blob store shared by runs, processes and users: DIR/blobs/<alg>/<hex>.
// Entries appear by atomic rename once verified; an entry that is not the blob (other
// bytes, or not a regular file at all) is never trusted and is replaced by the next
// download. Downloads go to DIR/tmp/<hex>.<pid>.<random>, each held under flock(2) by its
// writer while it lives: a partial file nobody holds was left by a killed download. The
// next download of the same blob resumes from it; one nobody resumes within an hour is
// removed when a cache is opened. No lock is held on a blob itself: two processes
// fetching one blob both download it and the second rename wins with identical bytes.
// Files are created 0666 less the umask, so a group sharing a cache can share its blobs.
//
// A cache is a directory others may write, so what the cache can reach is fixed when it
// is opened: DIR itself (the operator's path, followed if it is a link), then tmp/, blobs/
// and blobs/<alg>/ opened without following links (a link there is an error naming it).
// Every later name is resolved relative to those descriptors (openat, renameat, unlinkat),
// so nothing outside the cache is ever opened, written or removed. Entries are opened
// O_NOFOLLOW|O_NONBLOCK and checked with fstat before use (a FIFO or a directory planted
// there never blocks or breaks a pull). A file in tmp/ is resumed, truncated or removed
// only when it is a regular file with one link owned by the running user: the kind of
// file the cache itself makes.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

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
    // `notice` hears, once per object, what the cache skipped or replaced (--debug).
    explicit BlobCache(std::filesystem::path dir,
                       std::function<void(const std::string&)> notice = {});

    // The cached blob for `digest`, verified, or nothing (an entry that is not the blob is
    // left for the next download to replace).
    std::optional<CachedBlob> find(const Digest& digest) const;
    // Downloads through `fetch` unless cached. `fetch` fills the given open file (named
    // `name` in messages) from its current size on, and verifies it; the blob is then
    // renamed into the cache. A file left by a killed download of the same blob is resumed
    // (and started over once if that fails). `fetched` tells whether it was downloaded.
    // A blob whose name the cache cannot take (a directory or another user's file holds
    // it) is returned all the same, uncached.
    CachedBlob get(
        const Digest& digest,
        const std::function<void(const FileDescriptor& file, const std::string& name)>& fetch,
        bool* fetched = nullptr) const;
    // Stores bytes already verified in memory (small blobs such as configs).
    void put(const Digest& digest, const std::string& bytes) const;

  private:
    struct Dirs;
    struct Download;
    void remove_abandoned_downloads() const;
    std::filesystem::path path_for(const Digest& digest) const;
    std::optional<Download> claim_abandoned(const Digest& digest) const;
    Download new_download(const Digest& digest) const;
    // Renames the download into place; false (after a notice) when the name is held by
    // something the cache cannot replace.
    bool commit(Download& download, const Digest& digest) const;
    void discard(const Download& download) const;
    void note(const std::string& message) const;
    std::filesystem::path dir_;
    std::shared_ptr<Dirs> dirs_;
};

// True when the open file's content has this digest.
bool file_has_digest(const FileDescriptor& file, const Digest& digest);

}  // namespace d2a
