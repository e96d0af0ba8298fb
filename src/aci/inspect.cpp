#include "aci/inspect.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <memory>
#include <string>

#include "util/error.hpp"
#include "util/json.hpp"

namespace d2a {

std::optional<nlohmann::json> read_aci_manifest(const std::filesystem::path& path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) return std::nullopt;
    std::unique_ptr<archive, decltype(&archive_read_free)> a(archive_read_new(), &archive_read_free);
    archive_read_support_filter_gzip(a.get());
    archive_read_support_format_tar(a.get());
    if (archive_read_open_filename(a.get(), path.c_str(), 1 << 16) != ARCHIVE_OK) return std::nullopt;
    archive_entry* e = nullptr;
    // Ours put the manifest first; other writers may put it anywhere.
    for (int i = 0; i < 1000000 && archive_read_next_header(a.get(), &e) == ARCHIVE_OK; ++i) {
        if (std::string(archive_entry_pathname(e)) != "manifest") continue;
        if (archive_entry_size(e) > (4 << 20)) return std::nullopt;
        std::string text(static_cast<size_t>(archive_entry_size(e)), '\0');
        if (archive_read_data(a.get(), text.data(), text.size()) != static_cast<la_ssize_t>(text.size())) {
            return std::nullopt;
        }
        try {
            return parse_untrusted_json(text, path.string());
        } catch (const Error&) {
            return std::nullopt;
        }
    }
    return std::nullopt;
}

}  // namespace d2a
