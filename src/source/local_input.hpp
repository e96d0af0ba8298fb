// The IMAGE argument when it is not a registry reference: a file, stdin or a directory.
#pragma once

#include <string>

#include "image/image.hpp"
#include "source/options.hpp"
#include "util/limits.hpp"

namespace d2a {

// "-" (stdin), a docker save archive or OCI archive (plain, gzip, xz or zstd), or an OCI
// layout directory.
Image open_local_image(const std::string& arg, const SourceOptions& options, const Limits& limits);

}  // namespace d2a
