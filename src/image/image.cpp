#include "image/image.hpp"

#include "codec/decompress.hpp"

namespace d2a {

std::unique_ptr<Reader> open_layer_tar(const LayerSource& layer, const Limits& limits,
                                       Compression* compression) {
    std::unique_ptr<Reader> stream = layer.open_blob();
    if (layer.blob_digest && !stream->ends_verified_as(*layer.blob_digest, layer.blob_size)) {
        stream = std::make_unique<VerifyingReader>(std::move(stream), *layer.blob_digest,
                                                   layer.blob_size, layer.description);
    }
    stream = open_decompressed(std::move(stream), layer.description, limits.max_unpacked_bytes,
                               limits.max_compression_ratio, compression);
    if (layer.diff_id && !(layer.blob_digest && *layer.blob_digest == *layer.diff_id)) {
        stream = std::make_unique<VerifyingReader>(std::move(stream), *layer.diff_id, std::nullopt,
                                                   layer.description + " (diff_id)");
    }
    return stream;
}

}  // namespace d2a
