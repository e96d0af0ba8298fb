// Writes the ACI tar: "manifest", "rootfs", then rootfs/... entries (libarchive, PAX
// extensions only where a field needs them).
#pragma once

#include <memory>
#include <string>

#include "flatten/entry.hpp"
#include "flatten/flattener.hpp"
#include "util/stream.hpp"

struct archive;

namespace d2a {

class AciTarWriter final : public EntrySink {
  public:
    explicit AciTarWriter(Writer& out);
    AciTarWriter(const AciTarWriter&) = delete;
    AciTarWriter& operator=(const AciTarWriter&) = delete;
    ~AciTarWriter() override;

    void write_manifest(const std::string& manifest_json);
    void write_rootfs_dir(const Entry* root_meta);
    // Adds rootfs/<entry.path> (hard link targets are prefixed too).
    void add(const Entry& entry, Reader* data) override;
    void finish();

  private:
    void write_entry(const Entry& e, const std::string& name, const std::string& hardlink,
                     Reader* data);
    static long write_callback(archive*, void* self, const void* buf, size_t n);
    Writer& out_;
    archive* archive_ = nullptr;
    std::string pending_error_;
    std::vector<char> buffer_;
};

}  // namespace d2a
