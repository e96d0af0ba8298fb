// What the user chose among a source's images: --image and --platform.
#pragma once

#include <optional>
#include <string>

#include "image/platform.hpp"

namespace d2a {

struct SourceOptions {
    std::optional<std::string> image;  // --image NAME[:TAG]
    Platform platform;                 // --platform
    // --platform was given: an image made for another platform is an error, not a
    // conversion of what there is.
    bool platform_required = false;
};

}  // namespace d2a
