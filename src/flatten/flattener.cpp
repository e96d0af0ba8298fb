#include "flatten/flattener.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "flatten/layer_reader.hpp"
#include "util/error.hpp"
#include "util/path.hpp"
#include "util/threads.hpp"

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

namespace {

constexpr size_t kMaxPathBytes = 4096;
constexpr uint64_t kMaxCapturedBytes = 1 << 20;

// Charges what a layer stream yields to a budget shared by all layers of one image, so
// that --max-unpacked-size bounds the image, not each layer.
class BudgetReader final : public Reader {
  public:
    BudgetReader(std::unique_ptr<Reader> inner, std::atomic<uint64_t>& used, uint64_t limit,
                 std::string what)
        : inner_(std::move(inner)), used_(used), limit_(limit), what_(std::move(what)) {}
    size_t read(void* buf, size_t n) override {
        size_t got = inner_->read(buf, n);
        if (used_.fetch_add(got, std::memory_order_relaxed) + got > limit_) {
            throw Error(what_ + ": the image's layers add up to more than " +
                        std::to_string(limit_) + " bytes uncompressed");
        }
        return got;
    }

  private:
    std::unique_ptr<Reader> inner_;
    std::atomic<uint64_t>& used_;
    uint64_t limit_;
    std::string what_;
};
constexpr uint64_t kNoEvent = UINT64_MAX;

struct Inode;
struct Node;

// What only a directory has.
struct DirData {
    // Keyed by a view of the child's own name, which never changes while it is listed.
    std::unordered_map<std::string_view, std::unique_ptr<Node>> children;
    std::unique_ptr<Entry> meta;  // null for a directory no layer names explicitly
    uint32_t event_layer = 0;
    uint64_t event_ordinal = kNoEvent;
};

// A path of the tree. Images can hold millions, so a file's node carries no directory
// fields: those live in DirData, allocated for directories only.
struct Node {
    std::string name;
    Node* parent = nullptr;
    std::unique_ptr<DirData> dir;  // set for directories
    Inode* inode = nullptr;        // set for everything else: the file the path names
    size_t link_slot = 0;          // this path's index in inode->paths
    bool emitted = false;
    [[nodiscard]] bool is_dir() const { return dir != nullptr; }
};

// A non-directory file: created by one layer entry, named by one or more paths.
struct Inode {
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
    d->dir = std::make_unique<DirData>();
    return d;
}

struct Event {
    uint64_t ordinal;
    Node* dir;     // set for a directory's first explicit entry
    Inode* inode;  // set for the entry that carries a file's content
};

struct PendingEntry {
    uint64_t ordinal;
    std::string path;
    EntryType type;
    std::string link_target;
    std::unique_ptr<Entry> dir_meta;
    std::optional<std::string> captured;
};

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

}  // namespace

struct Flattener::Impl {
    size_t layer_count;
    LayerOpener opener;
    FlattenOptions options;
    const Limits& limits;
    Node root;
    std::vector<std::unique_ptr<Inode>> inodes;
    std::optional<Entry> root_meta;
    size_t layers_scanned = 0;
    uint64_t total_entries = 0;
    uint64_t file_bytes = 0;  // sizes of regular files, sparse ones in full
    // Layer bytes read by each pass (each reads a layer at most once).
    mutable std::atomic<uint64_t> scan_stream_bytes{0};
    std::atomic<uint64_t> emit_stream_bytes{0};
    mutable std::atomic<uint64_t> pending_name_bytes{0};

    Impl(size_t count, LayerOpener open, FlattenOptions opts, const Limits& lim)
        : layer_count(count), opener(std::move(open)), options(std::move(opts)), limits(lim) {
        root.dir = std::make_unique<DirData>();
    }

    ~Impl() { clear_children(&root); }

    // Destroys a detached subtree without recursion (hostile images nest deeply).
    static void destroy(std::unique_ptr<Node> subtree) {
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

    static void clear_children(Node* directory) {
        std::vector<std::unique_ptr<Node>> kids;
        kids.reserve(directory->dir->children.size());
        for (auto& [name, child] : directory->dir->children) kids.push_back(std::move(child));
        directory->dir->children.clear();
        for (auto& k : kids) destroy(std::move(k));
    }

    static void remove_child(Node* parent, std::string_view name) {
        auto it = parent->dir->children.find(name);
        if (it == parent->dir->children.end()) return;
        std::unique_ptr<Node> n = std::move(it->second);
        parent->dir->children.erase(it);
        destroy(std::move(n));
    }

    // The node at `path`, walking directories only (symlinks are never followed).
    Node* lookup(std::string_view path) {
        Node* n = &root;
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

    // The directory that will hold `path`, creating missing parents. A parent that is not
    // a directory (a file, or a symlink: never followed) is replaced by a directory, so an
    // entry always lands at its plain path inside the root.
    Node* ensure_parent(std::string_view path) {
        Node* dir = &root;
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

    void apply_whiteouts(const std::vector<std::string>& removals,
                         const std::vector<std::string>& opaque_dirs) {
        for (const auto& d : opaque_dirs) {
            Node* n = lookup(d);
            if (n && n->is_dir()) clear_children(n);
        }
        for (const auto& p : removals) {
            Node* n = lookup(p);
            if (n && n != &root) remove_child(n->parent, n->name);
        }
    }

    void apply(uint32_t layer, PendingEntry& p, const std::string& what) {
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
            if (!target && options.file_below && options.file_below(p.link_target)) {
                throw Error(what + ": hard link " + p.path + " points to " + p.link_target +
                            " of a lower layer, which an ACI of one layer cannot hold "
                            "(convert without --nosquash)");
            }
            if (!target) {
                throw Error(what + ": hard link " + p.path + " points to missing " + p.link_target);
            }
            if (target->is_dir()) {
                throw Error(what + ": hard link " + p.path + " points to directory " +
                            p.link_target);
            }
            inode = target->inode;
        } else {
            auto owned = std::make_unique<Inode>();
            owned->layer = layer;
            owned->ordinal = p.ordinal;
            if (p.captured) owned->captured = std::make_unique<std::string>(std::move(*p.captured));
            inode = owned.get();
            inodes.push_back(std::move(owned));
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

    std::string layer_name(size_t layer) const {
        if (options.layer_name) return options.layer_name(layer);
        return "layer " + std::to_string(layer + 1) + "/" + std::to_string(layer_count);
    }

    // One layer's headers, read without touching the tree (so layers can be read at once).
    struct LayerScan {
        std::vector<PendingEntry> pending;
        std::vector<std::string> removals;
        std::vector<std::string> opaque_dirs;
        std::optional<Entry> root_meta;
        uint64_t entries = 0;
        uint64_t file_bytes = 0;
        uint64_t name_bytes = 0;  // charged to pending_name_bytes until applied
    };

    std::unique_ptr<Reader> open_layer(uint32_t layer, LayerPass pass,
                                       std::atomic<uint64_t>& budget) const {
        return std::make_unique<BudgetReader>(opener(layer, pass), budget,
                                              limits.max_unpacked_bytes, layer_name(layer));
    }

    void charge_name(LayerScan& scan, size_t bytes, const std::string& what) const {
        scan.name_bytes += bytes;
        const uint64_t limit = limits.max_pending_name_bytes;
        if (pending_name_bytes.fetch_add(bytes, std::memory_order_relaxed) + bytes > limit) {
            throw Error(what + ": entry names add up to more than " + std::to_string(limit) +
                        " bytes");
        }
    }

    LayerScan read_layer(uint32_t layer, const std::atomic<bool>* cancelled) const {
        std::string what = layer_name(layer);
        LayerReader reader(open_layer(layer, LayerPass::scan, scan_stream_bytes), what);
        LayerScan scan;
        // A scan that does not reach apply_layer() gives its names' budget back.
        struct Refund {
            const Impl& impl;
            LayerScan& scan;
            bool keep = false;
            ~Refund() {
                if (!keep) impl.pending_name_bytes -= scan.name_bytes;
            }
        } refund{*this, scan};
        // Only the last copy of a captured path in this layer can survive it.
        std::unordered_map<std::string, size_t> captured_at;
        Entry e;
        while (reader.next(e)) {
            if (cancelled && cancelled->load(std::memory_order_relaxed)) return scan;
            uint64_t ord = scan.entries++;
            // This layer alone; apply_layer() checks the image as a whole.
            if (scan.entries > limits.max_entries) {
                throw Error(what + ": more than " + std::to_string(limits.max_entries) +
                            " entries in the image");
            }
            if (e.type == EntryType::regular) {
                scan.file_bytes += e.size;
                if (scan.file_bytes > limits.max_unpacked_bytes) {
                    throw Error(what + ": files add up to more than " +
                                std::to_string(limits.max_unpacked_bytes) + " bytes (at " +
                                e.path + ")");
                }
            }
            if (e.path.size() > kMaxPathBytes) {
                throw Error(what + ": entry name longer than " + std::to_string(kMaxPathBytes) +
                            " bytes");
            }
            if (e.path.empty()) {
                if (e.type != EntryType::directory) {
                    throw Error(what + ": the root entry \".\" is not a directory");
                }
                scan.root_meta = e;
                continue;
            }
            if (skip_for_whiteout_parent(e.path, what)) continue;
            std::string_view base = base_name(e.path);
            WhiteoutKind kind = with_context(what, [&] { return classify_whiteout(base); });
            std::string parent(parent_path(e.path));
            charge_name(scan, e.path.size() + e.link_target.size(), what);
            if (kind == WhiteoutKind::remove) {
                scan.removals.push_back((parent.empty() ? "" : parent + "/") +
                                        std::string(base.substr(4)));
                continue;
            }
            if (kind == WhiteoutKind::opaque) {
                scan.opaque_dirs.push_back(parent);
                continue;
            }
            if (kind == WhiteoutKind::metadata) continue;
            PendingEntry p{ord, e.path, e.type, e.link_target, nullptr, std::nullopt};
            if (e.type == EntryType::directory) p.dir_meta = std::make_unique<Entry>(e);
            if (e.type == EntryType::regular && e.size <= kMaxCapturedBytes &&
                options.capture_paths.count(e.path)) {
                LayerReader::DataReader data(reader);
                p.captured = read_all(data, kMaxCapturedBytes, what + ": " + e.path);
                auto [it, first] = captured_at.try_emplace(e.path, scan.pending.size());
                if (!first) {
                    scan.pending[it->second].captured.reset();
                    it->second = scan.pending.size();
                }
            }
            scan.pending.push_back(std::move(p));
        }
        refund.keep = true;  // apply_layer() gives it back
        return scan;
    }

    void apply_layer(uint32_t layer, LayerScan& scan) {
        std::string what = layer_name(layer);
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
        if (scan.root_meta) root_meta = std::move(scan.root_meta);
        // Whiteouts hide lower layers only, wherever they stand in this layer: apply them
        // all before this layer's own entries.
        apply_whiteouts(scan.removals, scan.opaque_dirs);
        for (auto& p : scan.pending) apply(layer, p, what);
        pending_name_bytes -= scan.name_bytes;
        scan.name_bytes = 0;
        scan.pending.clear();
        ++layers_scanned;
    }

    // Reads layers [layers_scanned, layer_count) on up to `threads` threads and applies
    // them bottom first. The first failing layer's error wins, as if read one by one.
    void scan_remaining(unsigned threads) {
        const size_t first = layers_scanned;
        const size_t count = layer_count - first;
        if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
        threads = static_cast<unsigned>(std::min<size_t>(threads, count));
        if (threads <= 1) {
            for (size_t i = first; i < layer_count; ++i) {
                LayerScan scan = read_layer(static_cast<uint32_t>(i), nullptr);
                apply_layer(static_cast<uint32_t>(i), scan);
            }
            return;
        }
        struct Slot {
            std::optional<LayerScan> scan;
            std::exception_ptr error;
            bool done = false;
        };
        std::vector<Slot> slots(count);
        std::mutex mutex;
        std::condition_variable changed;
        size_t next = 0;
        size_t applied = 0;
        std::atomic<bool> cancelled{false};
        // Layers are handed out in order, at most `threads` ahead of the one being applied,
        // so that no more than that many layers' headers wait in memory.
        auto worker = [&] {
            for (;;) {
                size_t i;
                {
                    std::unique_lock lock(mutex);
                    changed.wait(lock, [&] { return cancelled || next < applied + threads; });
                    if (cancelled || next >= count) return;
                    i = next++;
                }
                Slot result;
                try {
                    result.scan = read_layer(static_cast<uint32_t>(first + i), &cancelled);
                } catch (...) {  // handed to the applying thread
                    result.error = std::current_exception();
                }
                {
                    std::lock_guard lock(mutex);
                    slots[i].scan = std::move(result.scan);
                    slots[i].error = result.error;
                    slots[i].done = true;
                }
                changed.notify_all();
            }
        };
        std::vector<std::thread> pool;
        // Stops and joins the readers however this scope is left.
        struct Stop {
            std::mutex& mutex;
            std::condition_variable& changed;
            std::atomic<bool>& cancelled;
            std::vector<std::thread>& pool;
            ~Stop() {
                {
                    std::lock_guard lock(mutex);
                    cancelled = true;
                }
                changed.notify_all();
                for (auto& t : pool) t.join();
            }
        } stop{mutex, changed, cancelled, pool};
        pool = start_threads(threads, [&](size_t) { worker(); });
        if (pool.empty()) {  // the system refused every thread: read the layers here
            for (size_t i = first; i < layer_count; ++i) {
                LayerScan scan = read_layer(static_cast<uint32_t>(i), nullptr);
                apply_layer(static_cast<uint32_t>(i), scan);
            }
            return;
        }
        for (size_t i = 0; i < count; ++i) {
            std::optional<LayerScan> scan;
            {
                std::unique_lock lock(mutex);
                changed.wait(lock, [&] { return slots[i].done; });
                if (slots[i].error) std::rethrow_exception(slots[i].error);
                scan = std::move(slots[i].scan);
                slots[i].scan.reset();
            }
            apply_layer(static_cast<uint32_t>(first + i), *scan);
            {
                std::lock_guard lock(mutex);
                applied = i + 1;
            }
            changed.notify_all();
        }
    }

    // Entries under an aufs bookkeeping directory are skipped; any other whiteout name
    // used as a directory is malformed.
    static bool skip_for_whiteout_parent(std::string_view path, const std::string& what) {
        // Stopped early (false) at an aufs bookkeeping directory.
        return !for_each_component(parent_path(path), [&](std::string_view part) {
            if (part.substr(0, 4) != ".wh.") return true;
            if (part.substr(0, 8) == ".wh..wh.") return false;
            throw Error(what + ": whiteout \"" + std::string(part) + "\" used as a directory in " +
                        std::string(path));
        });
    }

    // --- emission ---

    void emit_dir_chain(Node* dir, EntrySink& sink, FlattenStats& stats) {
        std::vector<Node*> chain;
        for (Node* n = dir; n && n != &root && !n->emitted; n = n->parent) chain.push_back(n);
        for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
            Node* n = *it;
            std::string path = path_of(n);
            Entry e = n->dir->meta ? *n->dir->meta : implicit_dir_entry(path);
            if (!n->dir->meta && options.implicit_dir_metadata) {
                if (auto meta = options.implicit_dir_metadata(path)) {
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

    void emit_inode(Inode* inode, Entry& header, LayerReader& reader, EntrySink& sink,
                    FlattenStats& stats) {
        const std::vector<Node*> paths = inode->live_paths();
        Node* primary = paths.front();
        if (options.prefer_as_data_path) {
            for (Node* candidate : paths) {
                if (options.prefer_as_data_path(path_of(candidate), inode->layer, inode->ordinal)) {
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

    std::vector<std::vector<Event>> build_events() {
        std::vector<std::vector<Event>> events(layer_count);
        for (auto& inode : inodes) {
            if (inode->live > 0) {
                events[inode->layer].push_back({inode->ordinal, nullptr, inode.get()});
            }
        }
        std::vector<Node*> stack{&root};
        while (!stack.empty()) {
            Node* n = stack.back();
            stack.pop_back();
            if (n != &root && n->dir->event_ordinal != kNoEvent) {
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

    // Directories no surviving entry named or contained (emptied by whiteouts), in name
    // order for determinism.
    void emit_remaining_dirs(EntrySink& sink, FlattenStats& stats) {
        std::vector<Node*> stack{&root};
        while (!stack.empty()) {
            Node* n = stack.back();
            stack.pop_back();
            if (n != &root && !n->emitted) emit_dir_chain(n, sink, stats);
            std::vector<Node*> dirs;
            for (auto& [name, child] : n->dir->children) {
                if (child->is_dir()) dirs.push_back(child.get());
            }
            std::sort(dirs.begin(), dirs.end(),
                      [](const Node* a, const Node* b) { return a->name > b->name; });
            stack.insert(stack.end(), dirs.begin(), dirs.end());
        }
    }

    void emit_stdio_links(EntrySink& sink, FlattenStats& stats) {
        // rkt's stage1 expects these; Docker points stdout/stderr at /proc/self/fd/{1,2},
        // rkt at /dev/console so a journal socket works too.
        static const std::pair<const char*, const char*> links[] = {
            {"stdin", "/proc/self/fd/0"},
            {"stdout", "/dev/console"},
            {"stderr", "/dev/console"},
            {"fd", "/proc/self/fd"},
        };
        auto dev_it = root.dir->children.find("dev");
        Node* dev = dev_it == root.dir->children.end() ? nullptr : dev_it->second.get();
        if (dev && !dev->is_dir()) return;
        if (!dev) dev = add_child(&root, new_dir("dev"));
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
};

Flattener::Flattener(size_t layer_count, LayerOpener opener, FlattenOptions options,
                     const Limits& limits)
    : impl_(std::make_unique<Impl>(layer_count, std::move(opener), std::move(options), limits)) {}

Flattener::~Flattener() = default;

void Flattener::scan() {
    if (impl_->layers_scanned < impl_->layer_count)
        impl_->scan_remaining(impl_->options.scan_threads);
    stats_.layer_entries = impl_->total_entries;
}

void Flattener::scan_layer(size_t index) {
    if (index != impl_->layers_scanned || index >= impl_->layer_count) {
        throw Error("internal: layers must be scanned in order");
    }
    Impl::LayerScan scan = impl_->read_layer(static_cast<uint32_t>(index), nullptr);
    impl_->apply_layer(static_cast<uint32_t>(index), scan);
    stats_.layer_entries = impl_->total_entries;
}

std::vector<std::string> Flattener::paths() const {
    std::vector<std::string> out;
    std::vector<std::pair<const Node*, std::string>> stack{{&impl_->root, ""}};
    while (!stack.empty()) {
        auto [n, path] = std::move(stack.back());
        stack.pop_back();
        if (n != &impl_->root) out.push_back(path);
        if (!n->dir) continue;
        for (const auto& [name, child] : n->dir->children) {
            stack.emplace_back(child.get(), path.empty() ? child->name : path + "/" + child->name);
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::optional<EntryOrigin> Flattener::file_origin(const std::string& path) const {
    Node* n = impl_->lookup(path);
    if (!n || n->is_dir() || !n->inode) return std::nullopt;
    return EntryOrigin{n->inode->layer, n->inode->ordinal};
}

std::optional<Entry> Flattener::directory_metadata(const std::string& path) const {
    Node* n = impl_->lookup(path);
    if (!n || !n->is_dir() || !n->dir->meta) return std::nullopt;
    return *n->dir->meta;
}

std::optional<std::string> Flattener::captured(const std::string& path) const {
    Node* n = impl_->lookup(path);
    if (!n || n->is_dir() || !n->inode || !n->inode->captured) return std::nullopt;
    return *n->inode->captured;
}

std::optional<Entry> Flattener::root_entry() const {
    return impl_->root_meta;
}

void Flattener::emit(EntrySink& sink) {
    scan();
    auto events = impl_->build_events();
    for (size_t layer = 0; layer < impl_->layer_count; ++layer) {
        const auto& todo = events[layer];
        if (todo.empty()) continue;
        std::string what = impl_->layer_name(layer);
        LayerReader reader(impl_->open_layer(static_cast<uint32_t>(layer), LayerPass::emit,
                                             impl_->emit_stream_bytes),
                           what);
        Entry e;
        uint64_t ordinal = 0;
        size_t next = 0;
        while (next < todo.size() && reader.next(e)) {
            uint64_t ord = ordinal++;
            if (todo[next].ordinal != ord) continue;
            const Event& ev = todo[next++];
            if (ev.dir) {
                impl_->emit_dir_chain(ev.dir, sink, stats_);
            } else {
                impl_->emit_inode(ev.inode, e, reader, sink, stats_);
            }
        }
        if (next != todo.size()) throw Error(what + ": layer changed between reads");
        // Read to the end so the layer's digests are checked.
        while (reader.next(e)) {
        }
    }
    impl_->emit_remaining_dirs(sink, stats_);
    if (impl_->options.add_stdio_links) impl_->emit_stdio_links(sink, stats_);
}

}  // namespace d2a
