// Docker/OCI image config -> appc ImageManifest (schema 0.8.11).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "image/image.hpp"

namespace d2a {

struct ManifestInputs {
    const Image* image = nullptr;
    // The merged tree's /etc/passwd, for a User without a group.
    std::optional<std::string> passwd;
    std::string name_prefix;  // a discovery site's "host/path", or empty
};

struct AciNaming {
    std::string name;     // AC identifier: "mix3/hello", "registry-1.docker.io/library/busybox"
    std::string version;  // tag, or empty
    std::string os;
    std::string arch;  // appc spelling
    std::string file_name;  // relative to the output directory
    std::string file_stem;  // the name part of file_name: "mix3/hello" without registry
    bool nested = false;    // file_name keeps the name's slashes (a discovery site)
};

// With a `name_prefix` (a discovery site's "host/path"), the name starts with it and the
// file lies at the name's own path: "mirror.example.com/mix3/hello-latest-linux-amd64.aci".
AciNaming aci_naming(const Image& image, const std::string& name_prefix = "");

// Whether an ACI's manifest records `image` as its source (same manifest digest, or same
// config digest for an image that has no manifest digest).
bool made_from(const nlohmann::json& manifest, const Image& image);

// The image reference an ACI was made from, fully qualified ("quay.io/foo/app:1"), from its
// appc.io/docker/originalname annotation; "" when it has none (an image without a name).
// Two images that map to one file name are told apart by it.
std::string source_of(const nlohmann::json& manifest);
// The same for an image about to be converted.
std::string source_of(const Image& image);

// The full manifest. Keys and arrays are in a fixed order: same input, same bytes.
nlohmann::json build_manifest(const ManifestInputs& inputs);

// Pieces of the mapping, exposed for tests.
struct UserGroup {
    std::string user;
    std::string group;
};
UserGroup map_user(const std::string& docker_user, const std::optional<std::string>& passwd);
nlohmann::json map_ports(const std::vector<std::string>& exposed_ports);
nlohmann::json map_volumes(const std::vector<std::string>& volumes);
nlohmann::json map_environment(const std::vector<std::string>& env);

}  // namespace d2a
