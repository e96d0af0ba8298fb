#include "flatten/flattener.hpp"

#include <atomic>

#include "flatten/layer_reader.hpp"
#include "flatten/layer_scan.hpp"
#include "flatten/tree.hpp"
#include "util/error.hpp"

namespace d2a {

WhiteoutKind classify_whiteout(std::string_view base) {
    constexpr std::string_view prefix = ".wh.";
    if (base.substr(0, prefix.size()) != prefix) return WhiteoutKind::none;
    std::string_view rest = base.substr(prefix.size());
    if (rest == ".wh..opq") return WhiteoutKind::opaque;
    // aufs bookkeeping (.wh..wh.plnk, .wh..wh.aufs, ...) carries no tree content.
    if (rest.substr(0, prefix.size()) == prefix) return WhiteoutKind::metadata;
    if (rest.empty() || rest == "." || rest == "..") {
        throw Error("malformed whiteout \"" + std::string(base) + "\"");
    }
    return WhiteoutKind::remove;
}

// The two passes over one image's layers: the scan (flatten/layer_scan) feeds the merged
// tree (flatten/tree) bottom first; the emit pass reads the layers again and hands the
// tree's surviving entries to the sink.
struct Flattener::Impl {
    size_t layer_count;
    LayerOpener opener;
    FlattenOptions options;
    const Limits& limits;
    LayerScanner scanner;
    MergedTree tree;
    size_t layers_scanned = 0;
    uint64_t total_entries = 0;
    uint64_t file_bytes = 0;  // sizes of regular files, sparse ones in full
    std::atomic<uint64_t> emit_stream_bytes{0};

    Impl(size_t count, LayerOpener open, FlattenOptions opts, const Limits& lim)
        : layer_count(count),
          opener(std::move(open)),
          options(std::move(opts)),
          limits(lim),
          scanner([this](size_t i) { return opener(i, LayerPass::scan); }, limits,
                  options.capture_paths, [this](size_t i) { return layer_name(i); }),
          tree(count, options) {}

    [[nodiscard]] std::string layer_name(size_t layer) const {
        if (options.layer_name) return options.layer_name(layer);
        return "layer " + std::to_string(layer + 1) + "/" + std::to_string(layer_count);
    }

    // Each layer's counts were checked alone by the scan; here the image's as a whole.
    void apply_layer(size_t layer, LayerScan& scan) {
        const std::string what = layer_name(layer);
        total_entries += scan.entries;
        if (total_entries > limits.max_entries) {
            throw Error(what + ": more than " + std::to_string(limits.max_entries) +
                        " entries in the image");
        }
        file_bytes += scan.file_bytes;
        if (file_bytes > limits.max_unpacked_bytes) {
            throw Error(what + ": files add up to more than " +
                        std::to_string(limits.max_unpacked_bytes) + " bytes");
        }
        tree.apply(static_cast<uint32_t>(layer), scan, what);
        scanner.release(scan);
        ++layers_scanned;
    }
};

Flattener::Flattener(size_t layer_count, LayerOpener opener, FlattenOptions options,
                     const Limits& limits)
    : impl_(std::make_unique<Impl>(layer_count, std::move(opener), std::move(options), limits)) {}

Flattener::~Flattener() = default;

void Flattener::scan() {
    Impl& im = *impl_;
    if (im.layers_scanned < im.layer_count) {
        scan_in_order(im.scanner, im.layers_scanned, im.layer_count - im.layers_scanned,
                      im.options.scan_threads,
                      [&im](size_t layer, LayerScan& scan) { im.apply_layer(layer, scan); },
                      im.options.stop_reading);
    }
    stats_.layer_entries = im.total_entries;
}

void Flattener::scan_layer(size_t index) {
    if (index != impl_->layers_scanned || index >= impl_->layer_count) {
        throw Error("internal: layers must be scanned in order");
    }
    LayerScan scan = impl_->scanner.read(index, nullptr);
    impl_->apply_layer(index, scan);
    stats_.layer_entries = impl_->total_entries;
}

std::vector<std::string> Flattener::paths() const {
    return impl_->tree.paths();
}

std::optional<EntryOrigin> Flattener::file_origin(const std::string& path) const {
    return impl_->tree.file_origin(path);
}

std::optional<Entry> Flattener::directory_metadata(const std::string& path) const {
    return impl_->tree.directory_metadata(path);
}

std::optional<std::string> Flattener::captured(const std::string& path) const {
    return impl_->tree.captured(path);
}

std::optional<Entry> Flattener::root_entry() const {
    return impl_->tree.root_entry();
}

void Flattener::emit(EntrySink& sink) {
    scan();
    MergedTree& tree = impl_->tree;
    const auto events = tree.events();
    for (size_t layer = 0; layer < impl_->layer_count; ++layer) {
        const auto& todo = events[layer];
        if (todo.empty()) continue;
        const std::string what = impl_->layer_name(layer);
        LayerReader reader(std::make_unique<BudgetReader>(impl_->opener(layer, LayerPass::emit),
                                                          impl_->emit_stream_bytes,
                                                          impl_->limits.max_unpacked_bytes),
                           what);
        Entry e;
        uint64_t ordinal = 0;
        size_t next = 0;
        while (next < todo.size() && reader.next(e)) {
            if (todo[next].ordinal != ordinal++) continue;
            tree.emit(todo[next++], e, reader, sink, stats_);
        }
        if (next != todo.size()) throw Error(what + ": layer changed between reads");
        // Read to the end so the layer's digests are checked.
        while (reader.next(e)) {
        }
    }
    tree.emit_remaining_dirs(sink, stats_);
    if (impl_->options.add_stdio_links) tree.emit_stdio_links(sink, stats_);
}

}  // namespace d2a
