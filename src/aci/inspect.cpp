#include "aci/inspect.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>

#include <string>
#include <vector>

#include "codec/decompress.hpp"
#include "util/error.hpp"
#include "util/json.hpp"

namespace d2a {

namespace {

constexpr int64_t kMaxManifestBytes = 4 << 20;
constexpr uint64_t kMaxTarBytes = 1ull << 62;
constexpr uint64_t kMaxRatio = 1ull << 20;

struct Source {
    std::unique_ptr<Reader> reader;
    std::vector<char> buffer = std::vector<char>(1 << 16);
};

la_ssize_t read_source(archive* a, void* data, const void** buffer) {
    auto* source = static_cast<Source*>(data);
    try {
        *buffer = source->buffer.data();
        return static_cast<la_ssize_t>(
            source->reader->read(source->buffer.data(), source->buffer.size()));
    } catch (const std::exception& e) {  // libarchive is C: report through its error
        archive_set_error(a, EIO, "%s", e.what());
        return -1;
    }
}

}  // namespace

std::unique_ptr<Reader> ExistingAci::reader(const std::string& name) const {
    return std::make_unique<RangeReader>(file, 0, size, name);
}

std::optional<nlohmann::json> read_aci_manifest(const std::filesystem::path& path) {
    // The output directory may be written by others: a link or a FIFO there is no ACI.
    return read_aci_manifest(open_regular_file(path.string()), path.string());
}

std::optional<nlohmann::json> read_aci_manifest(FileDescriptor fd, const std::string& name) {
    if (!fd.valid()) return std::nullopt;
    std::unique_ptr<archive, decltype(&archive_read_free)> a(archive_read_new(),
                                                             &archive_read_free);
    archive_read_support_filter_gzip(a.get());
    archive_read_support_format_tar(a.get());
    if (archive_read_open_fd(a.get(), fd.get(), 1 << 16) != ARCHIVE_OK) return std::nullopt;
    archive_entry* e = nullptr;
    for (int i = 0; i < 16 && archive_read_next_header(a.get(), &e) == ARCHIVE_OK; ++i) {
        const char* entry = archive_entry_pathname(e);
        if (!entry || std::string(entry) != "manifest") continue;
        if (archive_entry_size(e) > kMaxManifestBytes) return std::nullopt;
        std::string text(static_cast<size_t>(archive_entry_size(e)), '\0');
        if (archive_read_data(a.get(), text.data(), text.size()) !=
            static_cast<la_ssize_t>(text.size()))
            return std::nullopt;
        try {
            return parse_untrusted_json(text, name);
        } catch (const Error&) {
            return std::nullopt;
        }
    }
    return std::nullopt;
}

std::optional<ExistingAci> open_complete_aci(const std::filesystem::path& path) {
    return open_complete_aci(open_regular_file(path.string()), path.string());
}

std::optional<ExistingAci> open_complete_aci(FileDescriptor opened, const std::string& name) {
    if (!opened.valid()) return std::nullopt;
    const std::filesystem::path path = name;
    const int fd = opened.get();
    ExistingAci aci;
    aci.file = std::make_shared<FileDescriptor>(std::move(opened));
    aci.size = file_size(fd);
    {
        unsigned char magic[2] = {};
        aci.gzip = ::pread(fd, magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    }
    Source source;
    try {
        // Our own inflater checks every member's CRC and length, to the last byte.
        source.reader =
            open_decompressed(aci.reader(path.string()), path.string(), kMaxTarBytes, kMaxRatio);
    } catch (const Error&) {
        return std::nullopt;
    }
    std::unique_ptr<archive, decltype(&archive_read_free)> a(archive_read_new(),
                                                             &archive_read_free);
    archive_read_support_format_tar(a.get());
    if (archive_read_open(a.get(), &source, nullptr, &read_source, nullptr) != ARCHIVE_OK) {
        return std::nullopt;
    }
    // Every entry is read through (its data decompressed and dropped), so that a truncated
    // or corrupt file is found here rather than trusted as up to date.
    bool have_manifest = false;
    archive_entry* e = nullptr;
    std::vector<char> sink(1 << 16);
    for (;;) {
        int rc = archive_read_next_header(a.get(), &e);
        if (rc == ARCHIVE_EOF) break;
        if (rc != ARCHIVE_OK) return std::nullopt;
        const char* entry = archive_entry_pathname(e);
        if (entry && std::string(entry) == "manifest" && !have_manifest) {
            if (archive_entry_size(e) > kMaxManifestBytes) return std::nullopt;
            std::string text(static_cast<size_t>(archive_entry_size(e)), '\0');
            if (archive_read_data(a.get(), text.data(), text.size()) !=
                static_cast<la_ssize_t>(text.size())) {
                return std::nullopt;
            }
            try {
                aci.manifest = parse_untrusted_json(text, path.string());
            } catch (const Error&) {
                return std::nullopt;
            }
            have_manifest = true;
            continue;
        }
        for (;;) {
            la_ssize_t n = archive_read_data(a.get(), sink.data(), sink.size());
            if (n < 0) return std::nullopt;
            if (n == 0) break;
        }
    }
    if (!have_manifest) return std::nullopt;
    // Past the end-of-archive blocks: the rest of the stream must decompress too.
    try {
        while (source.reader->read(sink.data(), sink.size()) > 0) {
        }
    } catch (const Error&) {
        return std::nullopt;
    }
    return aci;
}

}  // namespace d2a
