// What every bundle shares (reading a small file whole, resolving a link inside the
// bundle), and DirectoryBundle: an OCI layout read from a directory.
#include "source/bundle.hpp"

#include <sys/stat.h>

#include <string>
#include <vector>

#include "util/error.hpp"
#include "util/file.hpp"
#include "util/path.hpp"

namespace d2a {

std::string Bundle::read_file(std::string_view path, uint64_t limit) const {
    uint64_t n = size(path);
    if (n > limit) {
        throw Error(describe() + ": " + std::string(path) + " is " + std::to_string(n) +
                    " bytes, over the limit of " + std::to_string(limit));
    }
    auto r = open(path);
    return read_all(*r, limit, describe() + ": " + std::string(path));
}

std::string resolve_link_target(std::string_view link_path, std::string_view target) {
    std::vector<std::string> parts;
    if (!target.empty() && target.front() != '/') {
        for_each_component(parent_path(link_path), [&](std::string_view part) {
            if (!part.empty()) parts.emplace_back(part);
        });
    }
    for_each_component(target, [&](std::string_view part) {
        if (part == "..") {
            if (parts.empty()) {
                throw Error("link " + std::string(link_path) + " -> " + std::string(target) +
                            " leaves the archive");
            }
            parts.pop_back();
        } else if (!part.empty() && part != ".") {
            parts.emplace_back(part);
        }
    });
    std::string out;
    for (const auto& p : parts) {
        if (!out.empty()) out += '/';
        out += p;
    }
    return out;
}

DirectoryBundle::DirectoryBundle(std::string root) : root_(std::move(root)) {}

std::string DirectoryBundle::full(std::string_view path) const {
    return root_ + "/" + with_context(describe(), [&] { return normalize_entry_path(path); });
}

std::string DirectoryBundle::resolve(std::string_view path) const {
    return normalize_entry_path(path);
}

bool DirectoryBundle::exists(std::string_view path) const {
    struct stat st {};
    return ::stat(full(path).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

uint64_t DirectoryBundle::size(std::string_view path) const {
    struct stat st {};
    if (::stat(full(path).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
        throw Error(describe() + ": " + std::string(path) + " not found");
    }
    return static_cast<uint64_t>(st.st_size);
}

std::unique_ptr<Reader> DirectoryBundle::open(std::string_view path) const {
    std::string p = full(path);
    auto fd = std::make_shared<FileDescriptor>(open_for_reading(p));
    if (!is_regular_file(fd->get())) throw Error(p + ": not a regular file");
    uint64_t n = file_size(fd->get());
    return std::make_unique<RangeReader>(fd, 0, n, describe() + ": " + std::string(path));
}

}  // namespace d2a
