// Two layers (possibly compressed) through the digest checks, the decompressors, the tar
// reader and the flattener's both passes. The first byte decides whether the second
// layer's recorded digest is its own; when it is not, no conversion may succeed, whatever
// the layer holds (deletions, opaque directories, metadata, links): the invariant that no
// effect of an unverified layer reaches an ACI.
#include <cstdlib>

#include "flatten/flattener.hpp"
#include "image/image.hpp"
#include "util/error.hpp"

namespace {
class NullSink final : public d2a::EntrySink {
  public:
    void add(const d2a::Entry&, d2a::Reader* data) override {
        if (data) {
            char buf[4096];
            while (data->read(buf, sizeof buf) > 0) {
            }
        }
    }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 3) return 0;
    const bool honest = (data[0] & 1) != 0;
    const size_t body = size - 3;
    const size_t split = body == 0 ? 0 : (static_cast<size_t>(data[1]) << 8 | data[2]) % (body + 1);
    const std::string all(reinterpret_cast<const char*>(data) + 3, body);
    const std::string bytes[2] = {all.substr(0, split), all.substr(split)};

    d2a::Limits limits;
    limits.max_unpacked_bytes = 64 << 20;
    limits.max_entries = 10000;
    limits.max_compression_ratio = 2000;
    std::vector<d2a::LayerSource> layers(2);
    for (size_t i = 0; i < 2; ++i) {
        layers[i].description = "layer " + std::to_string(i);
        layers[i].open_blob = [&bytes, i] {
            return std::unique_ptr<d2a::Reader>(std::make_unique<d2a::MemoryReader>(bytes[i]));
        };
        layers[i].blob_digest = d2a::Digest::of(i == 1 && !honest ? bytes[i] + "tampered" : bytes[i]);
    }
    d2a::FlattenOptions options;
    options.capture_paths = {"etc/passwd"};
    options.scan_threads = data[0] & 2 ? 2 : 1;
    auto open = [&](size_t i, d2a::LayerPass) { return d2a::open_layer_tar(layers[i], limits); };
    try {
        d2a::Flattener flattener(2, open, options, limits);
        NullSink sink;
        flattener.emit(sink);
    } catch (const d2a::Error&) {
        return 0;
    }
    if (!honest) std::abort();  // a layer with the wrong digest was accepted
    return 0;
}
