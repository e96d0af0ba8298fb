// The merged tree of names the first pass builds: layers applied bottom first (whiteouts,
// opaque directories, replacements, hard-link groups), no file data kept; and what the
// emitting pass asks of it: which entry of which layer to emit, in an order valid for a
// tar (parents before children, link targets before links, each path once).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "flatten/entry.hpp"
#include "flatten/flattener.hpp"
#include "flatten/layer_reader.hpp"
#include "flatten/layer_scan.hpp"

namespace d2a {

struct TreeNode;
struct TreeInode;

class MergedTree {
  public:
    // Reads the callbacks of `options` (implicit_dir_metadata, prefer_as_data_path,
    // file_below), which must outlive the tree.
    MergedTree(size_t layer_count, const FlattenOptions& options);
    ~MergedTree();
    MergedTree(const MergedTree&) = delete;
    MergedTree& operator=(const MergedTree&) = delete;

    // Whiteouts hide lower layers only, wherever they stand in the layer: they are
    // applied before the layer's own entries. `what` names the layer in errors.
    void apply(uint32_t layer, LayerScan& scan, const std::string& what);

    [[nodiscard]] std::vector<std::string> paths() const;
    [[nodiscard]] std::optional<EntryOrigin> file_origin(const std::string& path) const;
    [[nodiscard]] std::optional<Entry> directory_metadata(const std::string& path) const;
    [[nodiscard]] std::optional<std::string> captured(const std::string& path) const;
    [[nodiscard]] const std::optional<Entry>& root_entry() const { return root_meta_; }

    // An entry the emitting pass must emit when it reaches it: a directory's first
    // explicit entry, or the entry that carries a file's content.
    struct Event {
        uint64_t ordinal;
        TreeNode* dir;
        TreeInode* inode;
    };
    // Per layer, by ordinal.
    [[nodiscard]] std::vector<std::vector<Event>> events() const;
    // `header` is the layer's entry at the event's ordinal; `reader` stands at its data.
    void emit(const Event& event, const Entry& header, LayerReader& reader, EntrySink& sink,
              FlattenStats& stats);
    // Directories no surviving entry named or contained (emptied by whiteouts), in name
    // order for determinism.
    void emit_remaining_dirs(EntrySink& sink, FlattenStats& stats);
    // rkt's /dev/stdin, /dev/stdout, /dev/stderr and /dev/fd, where the image has none.
    void emit_stdio_links(EntrySink& sink, FlattenStats& stats);

  private:
    TreeNode* lookup(std::string_view path) const;
    TreeNode* ensure_parent(std::string_view path);
    void apply_whiteouts(const std::vector<std::string>& removals,
                         const std::vector<std::string>& opaque_dirs);
    void apply_entry(uint32_t layer, PendingEntry& p, const std::string& what);
    void emit_dir_chain(TreeNode* dir, EntrySink& sink, FlattenStats& stats);

    size_t layer_count_;
    const FlattenOptions& options_;
    std::unique_ptr<TreeNode> root_;
    std::vector<std::unique_ptr<TreeInode>> inodes_;
    std::optional<Entry> root_meta_;
};

}  // namespace d2a
