// Existing ACIs: whether one in the output directory is whole, and what its manifest says.
#pragma once

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "util/file.hpp"
#include "util/stream.hpp"

namespace d2a {

// An ACI read to its end without error (gzip trailers, tar structure), held open: what was
// checked is what a caller signs or trusts, whatever happens to the name meanwhile.
struct ExistingAci {
    nlohmann::json manifest;
    bool gzip = false;
    std::shared_ptr<FileDescriptor> file;
    uint64_t size = 0;
    [[nodiscard]] std::unique_ptr<Reader> reader(const std::string& name) const;
};

// The manifest of an ACI (gzip or plain), reading no further than that entry (ours is the
// first); nothing if the file is not a readable ACI.
std::optional<nlohmann::json> read_aci_manifest(const std::filesystem::path& path);
// The same for an open file (named `name` in messages).
std::optional<nlohmann::json> read_aci_manifest(FileDescriptor file, const std::string& name);

// Nothing when the file is missing, not a regular file, or not a complete, readable ACI.
std::optional<ExistingAci> open_complete_aci(const std::filesystem::path& path);
// The same for an open file (named `name` in messages).
std::optional<ExistingAci> open_complete_aci(FileDescriptor file, const std::string& name);

}  // namespace d2a
