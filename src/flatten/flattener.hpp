// Merges an image's layers into the tree a container runtime would see, streaming.
//
// Pass 1 (scan) reads every layer's headers (several layers at once if asked) and replays
// them bottom first on an in-memory tree of names (no file data is kept): whiteouts, opaque
// directories, replacements and hard-link groups. Pass 2 (emit) reads the layers again and hands
// each surviving entry to a sink with its data, in an order valid for a tar: parents before
// children, link targets before links, each path once. Memory grows with the number of entries,
// never with their size.
//
// The parts: flatten/layer_scan reads one layer's headers (and runs several such reads in
// layer order), flatten/tree holds the merged tree and the emitting order, and this file
// ties them to the layer streams.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "flatten/entry.hpp"
#include "util/limits.hpp"
#include "util/stream.hpp"

namespace d2a {

class EntrySink {
  public:
    virtual ~EntrySink() = default;
    // `data` is set for regular files and yields exactly entry.size bytes.
    virtual void add(const Entry& entry, Reader* data) = 0;
};

// Opens layer `index` (0 = bottom) as an uncompressed tar stream; called at most once per
// pass. Each stream must verify itself (throw at its end when its bytes are not the
// layer's): the scan applies a layer's effects (whiteouts, opaque directories, metadata,
// links) only once its stream has reached the end, and the emitting pass reads every
// layer it takes data from to the end, so nothing of a layer whose bytes are wrong is
// ever acted on.
enum class LayerPass { scan, emit };
using LayerOpener = std::function<std::unique_ptr<Reader>(size_t index, LayerPass pass)>;

struct FlattenOptions {
    // Regular files whose final content the caller needs (e.g. "etc/passwd"), read during
    // the scan when no larger than 1 MiB.
    std::set<std::string> capture_paths;
    // Adds rkt's /dev/stdin, /dev/stdout, /dev/stderr and /dev/fd links when missing.
    bool add_stdio_links = true;
    // Metadata for a directory no entry of these layers names (default: 0755 root).
    std::function<std::optional<Entry>(const std::string& path)> implicit_dir_metadata;
    // Picks which path of a hard-link group carries the data: the first path for which
    // this returns true (given the creating entry's layer and ordinal), else the first.
    std::function<bool(const std::string& path, uint32_t layer, uint64_t ordinal)>
        prefer_as_data_path;
    // How messages name layer i (default "layer i+1/N").
    std::function<std::string(size_t index)> layer_name;
    // Layers whose headers are read at once by scan() (0: one more than the cores). The
    // opener is then called from several threads.
    unsigned scan_threads = 1;
    // Called when scan() fails with layers still being read: makes reads that wait on the
    // source (a layer still downloading) fail at once, so that their readers end.
    std::function<void()> stop_reading;
    // For a flattener of some layers only: whether a hard link's missing target is a file
    // of the layers below them, which makes the error say so.
    std::function<bool(const std::string& path)> file_below;
};

// Where a file in the merged tree came from: the layer and the entry's position in it.
struct EntryOrigin {
    uint32_t layer = 0;
    uint64_t ordinal = 0;
    bool operator==(const EntryOrigin&) const = default;
};

struct FlattenStats {
    uint64_t layer_entries = 0;
    uint64_t emitted_entries = 0;
};

class Flattener {
  public:
    // `limits` must outlive the flattener (a temporary is refused).
    Flattener(size_t layer_count, LayerOpener opener, FlattenOptions options, const Limits& limits);
    Flattener(size_t, LayerOpener, FlattenOptions, const Limits&&) = delete;
    ~Flattener();
    Flattener(const Flattener&) = delete;
    Flattener& operator=(const Flattener&) = delete;

    void scan();
    // Scans one more layer; layers must be scanned bottom first. scan() does them all.
    void scan_layer(size_t index);
    // Every path of the merged tree so far (directories too), sorted.
    [[nodiscard]] std::vector<std::string> paths() const;
    // The merged tree's file at `path`: which entry created it (none for directories).
    [[nodiscard]] std::optional<EntryOrigin> file_origin(const std::string& path) const;
    // The merged tree's directory at `path`: its explicit metadata, if any layer gave it.
    [[nodiscard]] std::optional<Entry> directory_metadata(const std::string& path) const;
    // Final content of a captured path, if it is a regular file in the merged tree.
    [[nodiscard]] std::optional<std::string> captured(const std::string& path) const;
    // Metadata of the image root ("." entries), if any layer had one.
    [[nodiscard]] std::optional<Entry> root_entry() const;
    void emit(EntrySink& sink);
    [[nodiscard]] const FlattenStats& stats() const { return stats_; }

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    FlattenStats stats_;
};

// Whiteout naming (the OCI image spec's layer rules).
enum class WhiteoutKind { none, remove, opaque, metadata };
// Classifies a base name; throws on malformed whiteouts (".wh.", ".wh..", ".wh...").
WhiteoutKind classify_whiteout(std::string_view base);

}  // namespace d2a
