#include "pipeline/convert_image.hpp"

#include "aci/inspect.hpp"
#include "aci/manifest.hpp"
#include "publish/publish.hpp"
#include "util/error.hpp"

namespace d2a {

namespace {

constexpr std::string_view kRegistryScheme = "docker://";

// The ACIs in place, when every one of them is whole and the top one was made from this
// image in the form asked for now (compression, squashed or layered).
std::optional<std::vector<ExistingAci>> unchanged(const Image& image, const FileDescriptor& dir,
                                                  const std::vector<std::filesystem::path>& paths,
                                                  const PipelineOptions& options) {
    std::vector<ExistingAci> existing;
    for (const auto& path : paths) {
        auto aci =
            open_complete_aci(open_regular_file_at(dir, path.filename().string()), path.string());
        if (!aci) return std::nullopt;
        if (aci->gzip != (options.convert.compression.kind == OutputCompression::gzip))
            return std::nullopt;
        existing.push_back(std::move(*aci));
    }
    const nlohmann::json& top = existing.back().manifest;
    if (top.contains("dependencies") != (paths.size() > 1)) return std::nullopt;
    if (!made_from(top, image)) return std::nullopt;
    return existing;
}

PullOptions pull_options(const PipelineOptions& options) {
    PullOptions pull;
    pull.source = options.source;
    pull.registry = options.registry;
    pull.registry.max_metadata_bytes = options.limits.max_metadata_bytes;
    pull.registry.max_blob_bytes =
        std::min(pull.registry.max_blob_bytes, options.limits.max_unpacked_bytes);
    pull.parallel = options.parallel;
    pull.cache_dir = options.cache_dir;
    pull.observer = options.observer;
    return pull;
}

// Gives the image's turn in the batch away if it ends before claiming its files.
struct ClaimTurn {
    OutputClaims* claims;
    size_t index;
    bool claimed = false;
    ~ClaimTurn() {
        if (claims && !claimed) claims->give_up(index);
    }
};

}  // namespace

ImageOutcome convert_image(const std::string& reference, const PipelineOptions& options,
                           OutputClaims* claims, size_t index) {
    ClaimTurn turn{claims, index};
    ImageOutcome outcome;
    std::optional<RegistryPull> registry;
    if (reference.rfind(kRegistryScheme, 0) == 0) {
        if (options.source.image) throw Error("--image works only with files");
        registry.emplace(reference.substr(kRegistryScheme.size()), pull_options(options));
        outcome.image = registry->image();
    } else {
        outcome.image = open_local_image(reference, options.source, options.limits);
    }
    if (options.source.platform_required) {
        const ImageConfig& c = outcome.image.config;
        Platform has{c.os.empty() ? "linux" : c.os,
                     c.architecture.empty() ? "amd64" : c.architecture, c.variant};
        if (!options.source.platform.matches(has)) {
            throw Error("the image is for " + has.str() + " only, not " +
                        options.source.platform.str());
        }
    }
    if (outcome.image.manifest_digest &&
        options.known_manifests.count(*outcome.image.manifest_digest)) {
        outcome.skipped = true;
        return outcome;
    }
    const std::vector<std::filesystem::path> paths =
        aci_output_paths(outcome.image, options.convert, options.layered);
    if (claims) {
        turn.claimed = true;
        claims->claim(index, reference, paths);
    }
    // Before any work: an ACI of this name made from another image is never replaced
    // (publish checks again, under the directory's lock).
    const std::shared_ptr<FileDescriptor> dir =
        open_output_directory(options.convert, paths.back());
    check_same_source(*dir, paths.back(), source_of(outcome.image));
    if (!options.force) {
        if (auto existing = unchanged(outcome.image, *dir, paths, options)) {
            if (options.signer) {
                for (size_t i = 0; i < paths.size(); ++i)
                    ensure_signature((*existing)[i], dir, paths[i], *options.signer);
            }
            outcome.skipped = true;
            outcome.skipped_paths = paths;
            return outcome;
        }
    }
    try {
        if (options.layered) {
            outcome.results = convert_layered(outcome.image, options.convert, options.limits);
        } else {
            outcome.results.push_back(
                convert_squashed(outcome.image, options.convert, options.limits));
        }
    } catch (const Error&) {
        // A layer read while its blob arrives fails when the pull does; the pull's own
        // error names the cause (which blob, what went wrong), the layer's only the effect.
        if (registry) registry->rethrow_download_failure();
        throw;
    }
    if (registry) outcome.blobs_downloaded = registry->blobs_downloaded();
    publish(outcome.results, options.signer);
    return outcome;
}

}  // namespace d2a
