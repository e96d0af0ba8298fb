// docker save archives of every generation, and skopeo / podman / buildah docker-archives.
#pragma once

#include <memory>
#include <string>

#include "image/image.hpp"
#include "source/bundle.hpp"
#include "source/options.hpp"
#include "util/limits.hpp"

namespace d2a {

// docker save: manifest.json (Docker 1.10+, skopeo, podman) or legacy repositories.
Image load_docker_archive(const std::shared_ptr<const Bundle>& bundle, const SourceOptions& options,
                          const Limits& limits, const std::string& fallback_name);

}  // namespace d2a
