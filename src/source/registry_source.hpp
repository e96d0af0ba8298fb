#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "registry/client.hpp"
#include "source/source.hpp"

namespace d2a {

struct PullOptions {
    RegistryOptions registry;
    SourceOptions source;
    int parallel = 4;
    std::function<void(const std::string&)> progress;  // one line per finished layer
};

// Pulls `reference` ([REGISTRY/]NAME[:TAG|@DIGEST]); layer blobs land in `work_dir`,
// which must outlive the returned Image.
Image pull_registry_image(const std::string& reference, const PullOptions& options,
                          const std::filesystem::path& work_dir);

}  // namespace d2a
