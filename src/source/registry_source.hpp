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
#include "registry/blob_cache.hpp"
#include "registry/client.hpp"
#include "source/source.hpp"

namespace d2a {

struct PullOptions {
    RegistryOptions registry;
    SourceOptions source;
    int parallel = 4;
    std::optional<std::filesystem::path> cache_dir;
    std::function<void(const std::string&)> progress;  // one line per finished layer
};

class RegistryPull {
  public:
    // Fetches the manifest (through an index for the platform) and the config.
    RegistryPull(const std::string& reference, PullOptions options);
    ~RegistryPull();

    // The image, its layers not yet openable until download().
    [[nodiscard]] const Image& image() const { return image_; }
    // Downloads every layer blob once (into the cache, or into `work_dir`), verified.
    void download(const std::filesystem::path& work_dir);
    [[nodiscard]] size_t blobs_downloaded() const { return downloaded_; }

  private:
    PullOptions options_;
    std::unique_ptr<RegistryClient> client_;
    std::optional<BlobCache> cache_;
    Image image_;
    std::vector<Descriptor> blobs_;
    size_t downloaded_ = 0;
};

}  // namespace d2a
