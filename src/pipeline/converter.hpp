// Image -> ACI file: flatten, translate the manifest, write, compress, rename into place.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "aci/result.hpp"
#include "codec/compressor.hpp"
#include "flatten/flattener.hpp"
#include "image/image.hpp"
#include "publish/discovery_site.hpp"
#include "util/file.hpp"
#include "util/limits.hpp"

namespace d2a {

struct ConvertOptions {
    std::filesystem::path output_dir = ".";
    CompressionOptions compression;
    // Threads for reading layers and for compressing (--threads; 0: every core, with one
    // reader more than the cores).
    unsigned threads = 0;
    // The output directory is this discovery site: names get its prefix, files nest.
    std::optional<DiscoverySite> site;
    // Compute ConvertResult::image_id. It is only reported (--json), and SHA-512 over the
    // whole tar is about a sixth of a big conversion's CPU, so it is not done by default.
    bool image_id = false;
    [[nodiscard]] std::string name_prefix() const { return site ? site->prefix : ""; }
};

// Where an ACI named `file_name` is written: in the output directory ("." as given).
std::filesystem::path aci_output_path(const ConvertOptions& options, const std::string& file_name);
// The directory of an ACI at `path` (one of aci_output_paths), made if missing and opened
// without following a link below the output directory (a discovery site nests ACIs in
// directories that others sharing the site may write).
std::shared_ptr<FileDescriptor> open_output_directory(const ConvertOptions& options,
                                                      const std::filesystem::path& path);
// Every file a conversion of `image` writes: one ACI, or one per layer when `layered`.
std::vector<std::filesystem::path> aci_output_paths(const Image& image,
                                                    const ConvertOptions& options, bool layered);

// Both return ACIs written in full but not yet in place (see ConvertResult::file).
ConvertResult convert_squashed(const Image& image, const ConvertOptions& options,
                               const Limits& limits);

// --nosquash: one ACI per layer, bottom first. Each depends on the one below and carries
// the merged tree up to it as its pathWhitelist; the top one carries the app. Rendered the
// appc way, the set gives exactly the squashed tree.
std::vector<ConvertResult> convert_layered(const Image& image, const ConvertOptions& options,
                                           const Limits& limits);

}  // namespace d2a
