// What every source shares: metadata JSON parsing, the layer/diff_id pairing rule, blob
// paths inside layouts (the depth limit for nested indexes is in source.hpp).
#include <nlohmann/json.hpp>

#include "source/source.hpp"
#include "util/error.hpp"
#include "util/json.hpp"

namespace d2a {

using nlohmann::json;

json parse_metadata_json(const std::string& text, const std::string& what) {
    return parse_untrusted_json(text, what);
}

void check_layer_count(const ImageConfig& config, size_t layers, const std::string& where) {
    if (config.has_rootfs && config.diff_ids.size() != layers) {
        throw Error(where + " lists " + std::to_string(layers) + " layers but the config has " +
                    std::to_string(config.diff_ids.size()) + " diff_ids");
    }
}

std::string blob_path(const Digest& digest) {
    return "blobs/" + digest.algorithm_name() + "/" + digest.hex;
}

}  // namespace d2a
