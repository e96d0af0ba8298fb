// What every source produces and every later stage consumes: one image, its config, and
// its layers as byte streams that verify themselves.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "codec/decompress.hpp"
#include "image/config.hpp"
#include "image/reference.hpp"
#include "util/digest.hpp"
#include "util/limits.hpp"
#include "util/stream.hpp"

namespace d2a {

struct LayerSource {
    std::string description;  // where the layer is, for messages: "blobs/sha256/ab12…"
    std::function<std::unique_ptr<Reader>()> open_blob;  // the stored (maybe compressed) bytes
    std::optional<Digest> blob_digest;                   // checked against the stored bytes
    std::optional<uint64_t> blob_size;
    std::optional<Digest> diff_id;  // checked against the decompressed tar
};

// Where an image was read from; the registry's images are named with its host.
enum class SourceKind { docker_archive, oci_layout, registry };

struct Image {
    std::optional<Reference> reference;  // the tag the image was picked by or stored under
    std::string fallback_name;           // name to use when there is no reference
    std::optional<std::string> manifest_digest;
    std::string image_id;  // config digest, or the legacy image id
    ImageConfig config;
    std::vector<LayerSource> layers;  // bottom first
    SourceKind source_kind = SourceKind::docker_archive;
    // For a conversion that gives up while layers are being read: ends the source's
    // pending work (downloads), so that reads waiting on it fail at once. Empty when
    // reads never wait on the source.
    std::function<void()> stop_reading;
};

// Opens a layer as an uncompressed tar stream that verifies itself: blob digest and size
// checked on the stored bytes, compression detected from magic bytes, diff_id checked on
// the tar. The checks fire when the stream reaches its end, so whoever reads a layer acts
// on what it read only after reading it to the end (the flattener applies a layer's
// whiteouts, metadata and links only then). There is no unverified way to open a layer:
// the blob's bytes are hashed here unless the source's stream checks that same digest
// and size itself before its end (Reader::ends_verified_as: a registry download into a
// file only it writes, hashed as it arrives).
std::unique_ptr<Reader> open_layer_tar(const LayerSource& layer, const Limits& limits,
                                       Compression* compression = nullptr);

}  // namespace d2a
