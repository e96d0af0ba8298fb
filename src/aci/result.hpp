// An ACI written in full but not yet in place: what a conversion hands to publishing.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "flatten/flattener.hpp"
#include "util/file.hpp"

namespace d2a {

struct ConvertResult {
    std::filesystem::path path;
    // The complete ACI, not yet under `path`: publish() puts it there (with its signature).
    std::unique_ptr<AtomicFile> file;
    // "sha512-<hex>" of the uncompressed ACI tar, as rkt computes it (if options.image_id)
    std::string image_id;
    nlohmann::json manifest;
    uint64_t tar_bytes = 0;
    uint64_t file_bytes = 0;
    FlattenStats stats;
    // Where the time went (for --debug): reading layer headers, writing the ACI (layers
    // streamed, tar, hashing, compression), and flushing it to disk.
    std::chrono::milliseconds scan_time{0};
    std::chrono::milliseconds write_time{0};
    std::chrono::milliseconds sync_time{0};
};

}  // namespace d2a
