// A content-addressed blob store shared by runs and by processes: DIR/blobs/<alg>/<hex>.
// Entries appear by atomic rename once verified; a corrupt entry is detected on use and
// replaced. No lock is held while downloading: two processes fetching one blob both
// download it and the second rename wins with identical bytes. Temp files of downloads
// killed more than a day ago are removed when a cache is opened.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>

#include "util/digest.hpp"

namespace d2a {

class BlobCache {
  public:
    explicit BlobCache(std::filesystem::path dir);

    // The verified cached file for `digest`, or nothing (a corrupt entry is removed).
    std::optional<std::filesystem::path> find(const Digest& digest) const;
    // Downloads through `fetch` (which fills the given temporary path and verifies it)
    // unless cached; returns the cached file. `fetched` tells whether it was downloaded.
    std::filesystem::path get(const Digest& digest,
                              const std::function<void(const std::filesystem::path&)>& fetch,
                              bool* fetched = nullptr) const;
    // Stores bytes already verified in memory (small blobs such as configs).
    void put(const Digest& digest, const std::string& bytes) const;

  private:
    void remove_abandoned_downloads() const;
    std::filesystem::path path_for(const Digest& digest) const;
    std::filesystem::path temp_path(const Digest& digest) const;
    std::filesystem::path dir_;
};

// True when the file's content has this digest.
bool file_has_digest(const std::filesystem::path& path, const Digest& digest);

}  // namespace d2a
