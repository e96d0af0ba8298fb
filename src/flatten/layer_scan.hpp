// The flattener's first pass, one layer at a time: a layer's headers read into a LayerScan
// (entries to apply, whiteouts, the root's metadata) without touching the merged tree, so
// that several layers can be read at once while the tree takes them bottom first.
#pragma once

#include <atomic>
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

// One entry of a layer, to be applied to the tree: its position in the layer (which the
// emitting pass finds it by), what it is, and what the scan kept of it.
struct PendingEntry {
    uint64_t ordinal;
    std::string path;
    EntryType type;
    std::string link_target;
    std::unique_ptr<Entry> dir_meta;      // directories: the whole header
    std::optional<std::string> captured;  // a captured path's content
};

struct LayerScan {
    std::vector<PendingEntry> pending;
    std::vector<std::string> removals;     // paths a whiteout removes
    std::vector<std::string> opaque_dirs;  // directories an opaque whiteout empties
    std::optional<Entry> root_meta;
    uint64_t entries = 0;
    uint64_t file_bytes = 0;
    uint64_t name_bytes = 0;  // charged to the pending-name budget until released
};

// Reads layers' headers against the image's limits. Thread-safe: the budgets it charges
// (bytes read, names pending) are shared by every layer of the image.
class LayerScanner {
  public:
    using Opener = std::function<std::unique_ptr<Reader>(size_t index)>;
    // `limits` must outlive the scanner (a temporary is refused).
    LayerScanner(Opener opener, const Limits& limits, std::set<std::string> capture_paths,
                 std::function<std::string(size_t)> layer_name);
    LayerScanner(Opener, const Limits&&, std::set<std::string>,
                 std::function<std::string(size_t)>) = delete;

    // One layer's headers (and the content of captured paths). Returns early, incomplete,
    // when `cancelled` is set. Throws Error for a malformed layer or a limit passed.
    LayerScan read(size_t layer, const std::atomic<bool>* cancelled) const;
    // Gives a scan's name bytes back to the budget (once its entries are applied or it is
    // dropped).
    void release(LayerScan& scan) const;

    [[nodiscard]] std::string layer_name(size_t layer) const { return layer_name_(layer); }

  private:
    void charge_name(LayerScan& scan, size_t bytes, const std::string& what) const;

    Opener opener_;
    const Limits& limits_;
    std::set<std::string> capture_paths_;
    std::function<std::string(size_t)> layer_name_;
    mutable std::atomic<uint64_t> read_bytes_{0};  // by every layer's stream, uncompressed
    mutable std::atomic<uint64_t> pending_name_bytes_{0};
};

// Reads layers [first, first + count) on up to `threads` threads (0: one more than the
// cores) and hands each to `apply` in order, bottom first. At most `threads` layers are
// read ahead of the one being applied, so that no more than that many layers' headers
// wait in memory.
// The first failing layer's error wins, as if the layers were read one by one; the other
// readers are stopped before it is thrown: `stop_reading`, when given, is called first, to
// end reads that wait on the source (a download) rather than on a reader's own work.
void scan_in_order(const LayerScanner& scanner, size_t first, size_t count, unsigned threads,
                   const std::function<void(size_t layer, LayerScan& scan)>& apply,
                   const std::function<void()>& stop_reading = {});

// Charges what a layer stream yields to a budget shared by all layers of one image, so
// that --max-unpacked-size bounds the image, not each layer. Its error names no layer: the
// LayerReader reading through it does.
class BudgetReader final : public Reader {
  public:
    BudgetReader(std::unique_ptr<Reader> inner, std::atomic<uint64_t>& used, uint64_t limit)
        : inner_(std::move(inner)), used_(used), limit_(limit) {}
    size_t read(void* buf, size_t n) override;

  private:
    std::unique_ptr<Reader> inner_;
    std::atomic<uint64_t>& used_;
    uint64_t limit_;
};

}  // namespace d2a
