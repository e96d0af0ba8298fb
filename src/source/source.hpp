// Turns the IMAGE argument into an Image. One loader per input kind.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "image/image.hpp"
#include "image/platform.hpp"
#include "image/reference.hpp"
#include "source/bundle.hpp"
#include "util/limits.hpp"

namespace d2a {

struct SourceOptions {
    std::optional<std::string> image;  // --image NAME[:TAG]
    Platform platform;                 // --platform
    // --platform was given: an image made for another platform is an error, not a
    // conversion of what there is.
    bool platform_required = false;
};

// "-" (stdin), a docker save archive or OCI archive (plain, gzip, xz or zstd), or an OCI
// layout directory.
Image open_local_image(const std::string& arg, const SourceOptions& options, const Limits& limits);

// docker save: manifest.json (Docker 1.10+, skopeo, podman) or legacy repositories.
Image load_docker_archive(const std::shared_ptr<const Bundle>& bundle, const SourceOptions& options,
                          const Limits& limits, const std::string& fallback_name);

// OCI image layout (index.json, blobs/).
Image load_oci_layout(const std::shared_ptr<const Bundle>& bundle, const SourceOptions& options,
                      const Limits& limits, const std::string& fallback_name);

// The digest of the manifest in an OCI index that names `config` as its config, if any.
std::optional<std::string> find_manifest_digest(const Bundle& bundle, const Digest& config,
                                                const Limits& limits);

// Indexes nested deeper than this are refused (a loop of indexes would never end).
inline constexpr int kMaxIndexDepth = 4;

// "blobs/sha256/<hex>" for a validated digest.
std::string blob_path(const Digest& digest);

// Parses metadata JSON; `what` names it in the error.
nlohmann::json parse_metadata_json(const std::string& text, const std::string& what);

// One image of an archive or layout as --image sees it: the names it goes by, each as
// written (an OCI ref.name may be a bare tag of the layout) and as a reference (absent
// when it does not parse), and how to list it when it has no name.
struct ImageCandidate {
    struct Name {
        std::string spelling;
        std::optional<Reference> reference;
    };
    std::vector<Name> names;
    std::string unnamed;  // e.g. "<untagged sha256:0123…>" or a manifest digest
};

struct ImageSelection {
    std::vector<size_t> indexes;         // the candidates chosen (an OCI name may have several
                                         // platforms); never empty
    std::optional<Reference> reference;  // the name chosen, if any
};

// The one rule for --image, whatever the source: a name matches as written, or as the same
// repository with the tag asked for; a name without a tag means its "latest", or its only
// tag. Without --image the candidates must all be one image (one name, or one unnamed
// candidate). Errors list what there is.
ImageSelection select_image(const std::vector<ImageCandidate>& candidates,
                            const std::optional<std::string>& wanted, const std::string& where);

// A manifest's layer list and its config's diff_ids must pair up one to one.
void check_layer_count(const ImageConfig& config, size_t layers, const std::string& where);

}  // namespace d2a
