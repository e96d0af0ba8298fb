// Resource limits for untrusted input. Defaults are generous for real images and stop
// bombs; each has a command-line flag to raise it.
#pragma once

#include <cstdint>

namespace d2a {

struct Limits {
    // Manifests, configs, manifest.json, index.json, repositories, legacy json files.
    uint64_t max_metadata_bytes = 4ull << 20;
    // Sum of decompressed layer bytes of one image, and of its files' sizes (a sparse
    // file's size counts in full).
    uint64_t max_unpacked_bytes = 64ull << 30;
    // Entries across all layers of one image.
    uint64_t max_entries = 20'000'000;
    // Decompressed bytes per compressed byte of one stream, past its first 64 MiB. gzip
    // cannot exceed about 1032:1, so only zstd and xz bombs reach the default.
    uint64_t max_compression_ratio = 2000;
    // Names (and link targets) of entries read but not yet applied to the tree: layers
    // scanned ahead hold theirs. Bounds the scan's memory whatever the entry count.
    uint64_t max_pending_name_bytes = 2ull << 30;
};

}  // namespace d2a
