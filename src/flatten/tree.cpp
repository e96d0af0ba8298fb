#include "flatten/tree.hpp"

#include <algorithm>
#include <unordered_map>

#include "util/error.hpp"
#include "util/path.hpp"

namespace d2a {

using Node = TreeNode;
using Inode = TreeInode;

namespace {
constexpr uint64_t kNoEvent = UINT64_MAX;
}  // namespace

// What only a directory has.
struct TreeDirData {
    // Keyed by a view of the child's own name, which never changes while it is listed.
    std::unordered_map<std::string_view, std::unique_ptr<Node>> children;
    std::unique_ptr<Entry> meta;  // null for a directory no layer names explicitly
    uint32_t event_layer = 0;
    uint64_t event_ordinal = kNoEvent;
};

// A path of the tree. Images can hold millions, so a file's node carries no directory
// fields: those live in TreeDirData, allocated for directories only.
struct TreeNode {
    std::string name;
    Node* parent = nullptr;
    std::unique_ptr<TreeDirData> dir;  // set for directories
    Inode* inode = nullptr;            // set for everything else: the file the path names
    size_t link_slot = 0;              // this path's index in inode->paths
    bool emitted = false;
    [[nodiscard]] bool is_dir() const { return dir != nullptr; }
};

// A non-directory file: created by one layer entry, named by one or more paths.
struct TreeInode {
    uint32_t layer = 0;
    uint64_t ordinal = 0;
    // In the order they were linked; the first live one carries the data. An unlinked path
    // leaves a null slot (erasing from the middle would make a file with a million links,
    // overwritten one by one, quadratic); the slots are compacted when half are null.
    std::vector<Node*> paths;
    size_t live = 0;
    std::unique_ptr<std::string> captured;

    void link(Node* n) {
        n->link_slot = paths.size();
        paths.push_back(n);
        ++live;
    }
    void unlink(Node* n) {
        paths[n->link_slot] = nullptr;
        if (--live == 0) {
            paths.clear();
            captured.reset();  // no path names it any more
            return;
        }
        if (live * 2 < paths.size()) {
            size_t kept = 0;
            for (Node* p : paths) {
                if (!p) continue;
                p->link_slot = kept;
                paths[kept++] = p;
            }
            paths.resize(kept);
        }
    }
    // The live paths, in link order.
    [[nodiscard]] std::vector<Node*> live_paths() const {
        std::vector<Node*> out;
        out.reserve(live);
        for (Node* p : paths) {
            if (p) out.push_back(p);
        }
        return out;
    }
};

namespace {

// Lists `child` under the directory `parent`.
Node* add_child(Node* parent, std::unique_ptr<Node> child) {
    Node* raw = child.get();
    raw->parent = parent;
    parent->dir->children.emplace(std::string_view(raw->name), std::move(child));
    return raw;
}

std::unique_ptr<Node> new_dir(std::string name) {
    auto d = std::make_unique<Node>();
    d->name = std::move(name);
    d->dir = std::make_unique<TreeDirData>();
    return d;
}

std::string path_of(const Node* n) {
    std::vector<const std::string*> parts;
    for (; n && n->parent; n = n->parent) parts.push_back(&n->name);
    std::string out;
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
        if (!out.empty()) out += '/';
        out += **it;
    }
    return out;
}

Entry implicit_dir_entry(std::string path) {
    Entry e;
    e.path = std::move(path);
    e.type = EntryType::directory;
    e.mode = 0755;
    return e;
}

// Destroys a detached subtree without recursion (hostile images nest deeply).
void destroy(std::unique_ptr<Node> subtree) {
    std::vector<std::unique_ptr<Node>> stack;
    stack.push_back(std::move(subtree));
    while (!stack.empty()) {
        std::unique_ptr<Node> n = std::move(stack.back());
        stack.pop_back();
        if (n->inode) n->inode->unlink(n.get());
        if (n->dir) {
            for (auto& [name, child] : n->dir->children) stack.push_back(std::move(child));
            n->dir->children.clear();
        }
    }
}

void clear_children(Node* directory) {
    std::vector<std::unique_ptr<Node>> kids;
    kids.reserve(directory->dir->children.size());
    for (auto& [name, child] : directory->dir->children) kids.push_back(std::move(child));
    directory->dir->children.clear();
    for (auto& k : kids) destroy(std::move(k));
}

void remove_child(Node* parent, std::string_view name) {
    auto it = parent->dir->children.find(name);
    if (it == parent->dir->children.end()) return;
    std::unique_ptr<Node> n = std::move(it->second);
    parent->dir->children.erase(it);
    destroy(std::move(n));
}

}  // namespace

MergedTree::MergedTree(size_t layer_count, const FlattenOptions& options)
    : layer_count_(layer_count), options_(options), root_(new_dir("")) {}

MergedTree::~MergedTree() {
    clear_children(root_.get());
}

// The node at `path`, walking directories only (symlinks are never followed).
Node* MergedTree::lookup(std::string_view path) const {
    Node* n = root_.get();
    if (path.empty()) return n;
    bool found = for_each_component(path, [&](std::string_view name) {
        if (!n->is_dir()) return false;
        auto it = n->dir->children.find(name);
        if (it == n->dir->children.end()) return false;
        n = it->second.get();
        return true;
    });
    return found ? n : nullptr;
}

// The directory that will hold `path`, creating missing parents. A parent that is not a
// directory (a file, or a symlink: never followed) is replaced by a directory, so an entry
// always lands at its plain path inside the root.
Node* MergedTree::ensure_parent(std::string_view path) {
    Node* dir = root_.get();
    std::string_view parent = parent_path(path);
    if (parent.empty()) return dir;
    for_each_component(parent, [&](std::string_view name) {
        auto it = dir->dir->children.find(name);
        if (it != dir->dir->children.end() && !it->second->is_dir()) {
            remove_child(dir, name);
            it = dir->dir->children.end();
        }
        dir = it == dir->dir->children.end() ? add_child(dir, new_dir(std::string(name)))
                                             : it->second.get();
    });
    return dir;
}

void MergedTree::apply_whiteouts(const std::vector<std::string>& removals,
                                 const std::vector<std::string>& opaque_dirs) {
    for (const auto& d : opaque_dirs) {
        Node* n = lookup(d);
        if (n && n->is_dir()) clear_children(n);
    }
    for (const auto& p : removals) {
        Node* n = lookup(p);
        if (n && n != root_.get()) remove_child(n->parent, n->name);
    }
}

void MergedTree::apply(uint32_t layer, LayerScan& scan, const std::string& what) {
    if (scan.root_meta) root_meta_ = std::move(scan.root_meta);
    apply_whiteouts(scan.removals, scan.opaque_dirs);
    for (auto& p : scan.pending) apply_entry(layer, p, what);
    scan.pending.clear();
}

void MergedTree::apply_entry(uint32_t layer, PendingEntry& p, const std::string& what) {
    std::string name(base_name(p.path));
    if (p.type == EntryType::directory) {
        Node* parent = ensure_parent(p.path);
        auto it = parent->dir->children.find(name);
        if (it != parent->dir->children.end() && it->second->is_dir()) {
            Node* d = it->second.get();
            d->dir->meta = std::move(p.dir_meta);
            if (d->dir->event_ordinal == kNoEvent) {
                d->dir->event_layer = layer;
                d->dir->event_ordinal = p.ordinal;
            }
            return;
        }
        remove_child(parent, name);
        Node* d = add_child(parent, new_dir(name));
        d->dir->meta = std::move(p.dir_meta);
        d->dir->event_layer = layer;
        d->dir->event_ordinal = p.ordinal;
        return;
    }
    Inode* inode = nullptr;
    if (p.type == EntryType::hardlink) {
        Node* target = lookup(p.link_target);
        if (!target && options_.file_below && options_.file_below(p.link_target)) {
            throw Error(what + ": hard link " + p.path + " points to " + p.link_target +
                        " of a lower layer, which an ACI of one layer cannot hold "
                        "(convert without --nosquash)");
        }
        if (!target) {
            throw Error(what + ": hard link " + p.path + " points to missing " + p.link_target);
        }
        if (target->is_dir()) {
            throw Error(what + ": hard link " + p.path + " points to directory " + p.link_target);
        }
        inode = target->inode;
    } else {
        auto owned = std::make_unique<Inode>();
        owned->layer = layer;
        owned->ordinal = p.ordinal;
        if (p.captured) owned->captured = std::make_unique<std::string>(std::move(*p.captured));
        inode = owned.get();
        inodes_.push_back(std::move(owned));
    }
    Node* parent = ensure_parent(p.path);
    auto it = parent->dir->children.find(name);
    if (it != parent->dir->children.end()) {
        if (!it->second->is_dir() && it->second->inode == inode) return;  // already linked
        remove_child(parent, name);
    }
    auto n = std::make_unique<Node>();
    n->name = name;
    n->inode = inode;
    inode->link(n.get());
    add_child(parent, std::move(n));
}

std::vector<std::string> MergedTree::paths() const {
    std::vector<std::string> out;
    std::vector<std::pair<const Node*, std::string>> stack{{root_.get(), ""}};
    while (!stack.empty()) {
        auto [n, path] = std::move(stack.back());
        stack.pop_back();
        if (n != root_.get()) out.push_back(path);
        if (!n->dir) continue;
        for (const auto& [name, child] : n->dir->children) {
            stack.emplace_back(child.get(), path.empty() ? child->name : path + "/" + child->name);
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::optional<EntryOrigin> MergedTree::file_origin(const std::string& path) const {
    Node* n = lookup(path);
    if (!n || n->is_dir() || !n->inode) return std::nullopt;
    return EntryOrigin{n->inode->layer, n->inode->ordinal};
}

std::optional<Entry> MergedTree::directory_metadata(const std::string& path) const {
    Node* n = lookup(path);
    if (!n || !n->is_dir() || !n->dir->meta) return std::nullopt;
    return *n->dir->meta;
}

std::optional<std::string> MergedTree::captured(const std::string& path) const {
    Node* n = lookup(path);
    if (!n || n->is_dir() || !n->inode || !n->inode->captured) return std::nullopt;
    return *n->inode->captured;
}

void MergedTree::emit_dir_chain(Node* dir, EntrySink& sink, FlattenStats& stats) {
    std::vector<Node*> chain;
    for (Node* n = dir; n && n != root_.get() && !n->emitted; n = n->parent) chain.push_back(n);
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
        Node* n = *it;
        std::string path = path_of(n);
        Entry e = n->dir->meta ? *n->dir->meta : implicit_dir_entry(path);
        if (!n->dir->meta && options_.implicit_dir_metadata) {
            if (auto meta = options_.implicit_dir_metadata(path)) {
                e = *meta;
                e.type = EntryType::directory;
            }
        }
        e.path = std::move(path);
        sink.add(e, nullptr);
        n->emitted = true;
        ++stats.emitted_entries;
    }
}

void MergedTree::emit(const Event& event, const Entry& header, LayerReader& reader, EntrySink& sink,
                      FlattenStats& stats) {
    if (event.dir) return emit_dir_chain(event.dir, sink, stats);
    const std::vector<Node*> paths = event.inode->live_paths();
    Node* primary = paths.front();
    if (options_.prefer_as_data_path) {
        for (Node* candidate : paths) {
            if (options_.prefer_as_data_path(path_of(candidate), event.inode->layer,
                                             event.inode->ordinal)) {
                primary = candidate;
                break;
            }
        }
    }
    emit_dir_chain(primary->parent, sink, stats);
    Entry e = header;
    e.path = path_of(primary);
    if (e.type == EntryType::regular) {
        LayerReader::DataReader data(reader);
        sink.add(e, &data);
    } else {
        sink.add(e, nullptr);
    }
    primary->emitted = true;
    ++stats.emitted_entries;
    for (Node* other : paths) {
        if (other == primary) continue;
        emit_dir_chain(other->parent, sink, stats);
        Entry link = header;
        link.path = path_of(other);
        link.type = EntryType::hardlink;
        link.link_target = e.path;
        link.size = 0;
        sink.add(link, nullptr);
        other->emitted = true;
        ++stats.emitted_entries;
    }
}

std::vector<std::vector<MergedTree::Event>> MergedTree::events() const {
    std::vector<std::vector<Event>> events(layer_count_);
    for (const auto& inode : inodes_) {
        if (inode->live > 0) {
            events[inode->layer].push_back({inode->ordinal, nullptr, inode.get()});
        }
    }
    std::vector<Node*> stack{root_.get()};
    while (!stack.empty()) {
        Node* n = stack.back();
        stack.pop_back();
        if (n != root_.get() && n->dir->event_ordinal != kNoEvent) {
            events[n->dir->event_layer].push_back({n->dir->event_ordinal, n, nullptr});
        }
        for (auto& [name, child] : n->dir->children) {
            if (child->is_dir()) stack.push_back(child.get());
        }
    }
    for (auto& per_layer : events) {
        std::sort(per_layer.begin(), per_layer.end(),
                  [](const Event& a, const Event& b) { return a.ordinal < b.ordinal; });
    }
    return events;
}

void MergedTree::emit_remaining_dirs(EntrySink& sink, FlattenStats& stats) {
    std::vector<Node*> stack{root_.get()};
    while (!stack.empty()) {
        Node* n = stack.back();
        stack.pop_back();
        if (n != root_.get() && !n->emitted) emit_dir_chain(n, sink, stats);
        std::vector<Node*> dirs;
        for (auto& [name, child] : n->dir->children) {
            if (child->is_dir()) dirs.push_back(child.get());
        }
        std::sort(dirs.begin(), dirs.end(),
                  [](const Node* a, const Node* b) { return a->name > b->name; });
        stack.insert(stack.end(), dirs.begin(), dirs.end());
    }
}

void MergedTree::emit_stdio_links(EntrySink& sink, FlattenStats& stats) {
    // rkt's stage1 expects these; Docker points stdout/stderr at /proc/self/fd/{1,2},
    // rkt at /dev/console so a journal socket works too.
    static const std::pair<const char*, const char*> links[] = {
        {"stdin", "/proc/self/fd/0"},
        {"stdout", "/dev/console"},
        {"stderr", "/dev/console"},
        {"fd", "/proc/self/fd"},
    };
    auto dev_it = root_->dir->children.find("dev");
    Node* dev = dev_it == root_->dir->children.end() ? nullptr : dev_it->second.get();
    if (dev && !dev->is_dir()) return;
    if (!dev) dev = add_child(root_.get(), new_dir("dev"));
    for (const auto& [name, target] : links) {
        if (dev->dir->children.count(name)) continue;
        emit_dir_chain(dev, sink, stats);
        Entry e;
        e.path = std::string("dev/") + name;
        e.type = EntryType::symlink;
        e.mode = 0777;
        e.link_target = target;
        sink.add(e, nullptr);
        ++stats.emitted_entries;
    }
}

}  // namespace d2a
