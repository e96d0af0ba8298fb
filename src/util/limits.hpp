// Resource limits for untrusted input. Defaults are generous for real images and stop
// bombs; each has a command-line flag to raise it.
#pragma once

#include <cstdint>

namespace d2a {

struct Limits {
    // Manifests, configs, manifest.json, index.json, repositories, legacy json files.
    uint64_t max_metadata_bytes = 4ull << 20;
    // Sum of decompressed layer bytes of one image.
    uint64_t max_unpacked_bytes = 256ull << 30;
    // Entries across all layers of one image.
    uint64_t max_entries = 20'000'000;
    // Decompressed bytes per compressed byte of one layer, past the first 64 MiB.
    uint64_t max_compression_ratio = 1000;
};

}  // namespace d2a
