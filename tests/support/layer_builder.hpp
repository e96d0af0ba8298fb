// Builds layer tars in memory for unit tests.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <string>
#include <vector>

#include "flatten/entry.hpp"
#include "flatten/flattener.hpp"

namespace d2a::testing {

class LayerBuilder {
  public:
    LayerBuilder& file(const std::string& path, const std::string& content, unsigned mode = 0644) {
        return add(path, AE_IFREG, mode, content, "", "");
    }
    LayerBuilder& dir(const std::string& path, unsigned mode = 0755) {
        return add(path, AE_IFDIR, mode, "", "", "");
    }
    LayerBuilder& symlink(const std::string& path, const std::string& target) {
        return add(path, AE_IFLNK, 0777, "", target, "");
    }
    LayerBuilder& hardlink(const std::string& path, const std::string& target) {
        return add(path, AE_IFREG, 0644, "", "", target);
    }
    LayerBuilder& whiteout(const std::string& dir, const std::string& name) {
        return file((dir.empty() ? "" : dir + "/") + ".wh." + name, "");
    }
    LayerBuilder& opaque(const std::string& dir) { return file(dir + "/.wh..wh..opq", ""); }

    [[nodiscard]] std::string tar() const {
        std::string out;
        archive* a = archive_write_new();
        archive_write_set_format_pax_restricted(a);
        archive_write_set_bytes_in_last_block(a, 1);
        archive_write_open(a, &out, nullptr, &write_cb, nullptr);
        for (const auto& e : entries_) {
            archive_entry* ae = archive_entry_new();
            archive_entry_set_pathname(ae, e.path.c_str());
            archive_entry_set_filetype(ae, e.type);
            archive_entry_set_perm(ae, e.mode);
            archive_entry_set_size(ae, static_cast<la_int64_t>(e.content.size()));
            if (!e.symlink.empty()) archive_entry_set_symlink(ae, e.symlink.c_str());
            if (!e.hardlink.empty()) {
                archive_entry_set_hardlink(ae, e.hardlink.c_str());
                archive_entry_set_size(ae, 0);
            }
            archive_write_header(a, ae);
            if (!e.content.empty()) archive_write_data(a, e.content.data(), e.content.size());
            archive_entry_free(ae);
        }
        archive_write_close(a);
        archive_write_free(a);
        return out;
    }

  private:
    struct Item {
        std::string path;
        unsigned type;
        unsigned mode;
        std::string content, symlink, hardlink;
    };
    LayerBuilder& add(const std::string& path, unsigned type, unsigned mode,
                      const std::string& content, const std::string& symlink,
                      const std::string& hardlink) {
        entries_.push_back({path, type, mode, content, symlink, hardlink});
        return *this;
    }
    static la_ssize_t write_cb(archive*, void* out, const void* buf, size_t n) {
        static_cast<std::string*>(out)->append(static_cast<const char*>(buf), n);
        return static_cast<la_ssize_t>(n);
    }
    std::vector<Item> entries_;
};

// Collects what the flattener emits: "path type [content|-> target]" lines in order.
class CollectingSink final : public EntrySink {
  public:
    void add(const Entry& e, Reader* data) override {
        std::string line = e.path + " ";
        switch (e.type) {
            case EntryType::regular:
                line += "file " + (data ? read_all(*data, 1 << 20, "data") : "");
                break;
            case EntryType::directory:
                line += "dir";
                break;
            case EntryType::symlink:
                line += "symlink -> " + e.link_target;
                break;
            case EntryType::hardlink:
                line += "hardlink -> " + e.link_target;
                break;
            default:
                line += "other";
                break;
        }
        lines.push_back(line);
    }
    std::vector<std::string> lines;
};

}  // namespace d2a::testing
