// docker://[REGISTRY/]NAME[:TAG|@DIGEST] in two steps: resolve (manifest, platform,
// config: enough to name the image and to tell whether it changed) and download (the
// layers, in parallel, through the blob cache when there is one).
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "image/descriptor.hpp"
#include "image/image.hpp"
#include "registry/blob_cache.hpp"
#include "registry/client.hpp"
#include "source/options.hpp"

namespace d2a {

// Told about layer downloads, from the downloading threads (implementations lock).
class DownloadObserver {
  public:
    virtual ~DownloadObserver() = default;
    // `index` is the blob's position in the list given to started() for the same pull.
    virtual void started(const std::vector<Descriptor>& blobs) = 0;
    virtual void progress(size_t index, const Descriptor& blob, uint64_t bytes) = 0;
    virtual void finished(size_t index, const Descriptor& blob, uint64_t bytes,
                          bool from_cache) = 0;
};

struct PullOptions {
    RegistryOptions registry;
    SourceOptions source;
    int parallel = 4;
    std::optional<std::filesystem::path> cache_dir;
    DownloadObserver* observer = nullptr;
};

class RegistryPull {
  public:
    // Fetches the manifest (through an index for the platform) and the config. The image
    // is whole: opening any of its layers downloads every layer blob once (and waits for
    // that), so that an image found up to date downloads nothing.
    RegistryPull(const std::string& reference, PullOptions options);
    ~RegistryPull();

    [[nodiscard]] const Image& image() const { return image_; }
    // Blobs fetched from the registry so far (not found in the cache).
    [[nodiscard]] size_t blobs_downloaded() const;
    // Throws the error that ended the downloads, if one did.
    void rethrow_download_failure() const;

  private:
    class LayerBlobs;
    // The config from the cache, checked; empty when it is not there.
    std::string cached_config(const Digest& digest) const;
    PullOptions options_;
    std::unique_ptr<RegistryClient> client_;
    std::optional<BlobCache> cache_;
    Image image_;
    std::shared_ptr<LayerBlobs> blobs_;
};

}  // namespace d2a
