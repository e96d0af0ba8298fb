#pragma once

#include <filesystem>
#include <optional>

#include <nlohmann/json.hpp>

namespace d2a {

// The manifest of an existing ACI (gzip or plain), or nothing if the file is missing or
// is not a readable ACI.
std::optional<nlohmann::json> read_aci_manifest(const std::filesystem::path& path);

}  // namespace d2a
