// Image -> ACI file: flatten, translate the manifest, write, compress, rename into place.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "aci/compressor.hpp"
#include "flatten/flattener.hpp"
#include "image/image.hpp"
#include "util/limits.hpp"

namespace d2a {

struct ConvertOptions {
    std::filesystem::path output_dir = ".";
    CompressionOptions compression;
    Limits limits;
};

struct ConvertResult {
    std::filesystem::path path;
    std::string image_id;  // "sha512-<hex>" of the uncompressed ACI tar, as rkt computes it
    nlohmann::json manifest;
    uint64_t tar_bytes = 0;
    uint64_t file_bytes = 0;
    FlattenStats stats;
};

ConvertResult convert_squashed(const Image& image, const ConvertOptions& options);

}  // namespace d2a
