// OCI image layouts, from a directory or an archive.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "image/image.hpp"
#include "source/bundle.hpp"
#include "source/options.hpp"
#include "util/digest.hpp"
#include "util/limits.hpp"

namespace d2a {

// OCI image layout (index.json, blobs/).
Image load_oci_layout(const std::shared_ptr<const Bundle>& bundle, const SourceOptions& options,
                      const Limits& limits, const std::string& fallback_name);

// The digest of the manifest in an OCI index that names `config` as its config, if any.
std::optional<std::string> find_manifest_digest(const Bundle& bundle, const Digest& config,
                                                const Limits& limits);

}  // namespace d2a
