// A read-only tree of named files: a tar archive (docker save, OCI archive) or a
// directory (OCI layout). Formats read their metadata and layers through it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "util/file.hpp"
#include "util/stream.hpp"

namespace d2a {

class Bundle {
  public:
    virtual ~Bundle() = default;
    [[nodiscard]] virtual bool exists(std::string_view path) const = 0;
    // Size of a regular file (after following links inside the bundle).
    [[nodiscard]] virtual uint64_t size(std::string_view path) const = 0;
    [[nodiscard]] virtual std::unique_ptr<Reader> open(std::string_view path) const = 0;
    // "archive hello.tar", for messages.
    [[nodiscard]] virtual std::string describe() const = 0;
    // The path a name resolves to after following symlinks inside the bundle.
    [[nodiscard]] virtual std::string resolve(std::string_view path) const = 0;

    // Reads a whole metadata file, refusing one larger than `limit`.
    [[nodiscard]] std::string read_file(std::string_view path, uint64_t limit) const;
};

// Resolves `target` (a symlink's text) relative to the directory holding `link_path`,
// inside a root it may not leave.
std::string resolve_link_target(std::string_view link_path, std::string_view target);

// A tar archive on a seekable file, indexed once.
class TarBundle final : public Bundle {
  public:
    struct Member {
        char type = '0';
        uint64_t offset = 0;  // of the data
        uint64_t size = 0;
        std::string link;  // symlink text or hardlink target
    };

    TarBundle(std::shared_ptr<FileDescriptor> file, std::string name);
    bool exists(std::string_view path) const override;
    uint64_t size(std::string_view path) const override;
    std::unique_ptr<Reader> open(std::string_view path) const override;
    std::string describe() const override { return "archive " + name_; }
    std::string resolve(std::string_view path) const override;
    [[nodiscard]] size_t member_count() const { return members_.size(); }

  private:
    const Member* find(std::string_view path) const;
    std::shared_ptr<FileDescriptor> file_;
    std::string name_;
    std::unordered_map<std::string, Member> members_;
};

class DirectoryBundle final : public Bundle {
  public:
    explicit DirectoryBundle(std::string root);
    bool exists(std::string_view path) const override;
    uint64_t size(std::string_view path) const override;
    std::unique_ptr<Reader> open(std::string_view path) const override;
    std::string describe() const override { return "directory " + root_; }
    std::string resolve(std::string_view path) const override;

  private:
    std::string full(std::string_view path) const;
    std::string root_;
};

}  // namespace d2a
