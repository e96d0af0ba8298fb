// OCI / Docker distribution documents: descriptors, indexes (manifest lists) and image
// manifests, and picking a platform from an index.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "image/platform.hpp"
#include "util/digest.hpp"

namespace d2a {

struct Descriptor {
    std::string media_type;
    Digest digest;
    uint64_t size = 0;
    std::optional<Platform> platform;
    std::map<std::string, std::string> annotations;
};

struct ImageManifestDoc {
    Descriptor config;
    std::vector<Descriptor> layers;
};

bool is_index_media_type(const std::string& media_type);
bool is_manifest_media_type(const std::string& media_type);
bool is_schema1_media_type(const std::string& media_type);

Descriptor parse_descriptor(const nlohmann::json& d, const std::string& what);
// The "manifests" of an index; an index that also has "layers" or "config" is an error.
std::vector<Descriptor> index_manifests(const nlohmann::json& index, const std::string& what);
// An image manifest's config and layers, with their media types checked.
ImageManifestDoc parse_image_manifest(const nlohmann::json& manifest, const std::string& what);
// Attestation and signature entries (unknown/unknown) are never images to run.
bool is_attestation(const Descriptor& d);
// The entry of an index for `platform`; throws naming the platforms on offer.
Descriptor choose_platform(const std::vector<Descriptor>& entries, const Platform& platform,
                           const std::string& what);

}  // namespace d2a
