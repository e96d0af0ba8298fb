// What every source shares: metadata JSON, blob paths, the --image rule, layer counts.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "image/config.hpp"
#include "image/reference.hpp"
#include "util/digest.hpp"

namespace d2a {

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
