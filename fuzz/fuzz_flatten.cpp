// One layer (possibly compressed) through the decompressors, the tar reader and the
// flattener's both passes.
#include "flatten/flattener.hpp"
#include "util/decompress.hpp"
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
    std::string bytes(reinterpret_cast<const char*>(data), size);
    d2a::FlattenOptions options;
    options.limits.max_unpacked_bytes = 64 << 20;
    options.limits.max_entries = 10000;
    options.capture_paths = {"etc/passwd"};
    auto open = [&](size_t, d2a::LayerPass) {
        return d2a::open_decompressed(std::make_unique<d2a::MemoryReader>(bytes), "fuzz",
                                      64 << 20, 2000);
    };
    try {
        d2a::Flattener flattener(1, open, options);
        NullSink sink;
        flattener.emit(sink);
    } catch (const d2a::Error&) {
    }
    return 0;
}
