#include "flatten/layer_reader.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <algorithm>

#include "util/path.hpp"
#include "util/error.hpp"

namespace d2a {

LayerReader::LayerReader(std::unique_ptr<Reader> tar_stream, std::string what)
    : what_(std::move(what)), buffer_(1 << 17) {
    auto peek = std::make_unique<PeekReader>(std::move(tar_stream));
    // docker save writes empty layers as zero-byte files: no entries, not an error.
    empty_ = peek->peek(1).empty();
    stream_ = std::move(peek);
    if (empty_) return;
    archive_ = archive_read_new();
    archive_read_support_format_tar(archive_);
    archive_read_set_skip_callback(archive_, &LayerReader::skip_callback);
    if (archive_read_open(archive_, this, nullptr, &LayerReader::read_callback, nullptr) !=
        ARCHIVE_OK) {
        std::string msg = pending_error_.empty() ? archive_error_string(archive_) : pending_error_;
        archive_read_free(archive_);
        archive_ = nullptr;
        throw Error(what_ + ": " + msg);
    }
}

LayerReader::~LayerReader() {
    if (archive_) archive_read_free(archive_);
}

long LayerReader::read_callback(archive* a, void* self_ptr, const void** buffer) {
    auto* self = static_cast<LayerReader*>(self_ptr);
    if (!self->pending_error_.empty()) {
        archive_set_error(a, EIO, "%s", self->pending_error_.c_str());
        return -1;
    }
    try {
        size_t n = self->stream_->read(self->buffer_.data(), self->buffer_.size());
        *buffer = self->buffer_.data();
        return static_cast<long>(n);
    } catch (const Error& e) {
        self->pending_error_ = e.what();
        archive_set_error(a, EIO, "%s", e.what());
        return -1;
    }
}

int64_t LayerReader::skip_callback(archive* a, void* self_ptr, int64_t request) {
    auto* self = static_cast<LayerReader*>(self_ptr);
    if (!self->pending_error_.empty()) return 0;
    try {
        return static_cast<int64_t>(self->stream_->skip(static_cast<uint64_t>(request)));
    } catch (const Error& e) {
        // Never return a negative count here: libarchive 3.6 adds it to what is left to
        // skip and calls again, forever. 0 makes it fall back to reading, which fails
        // with this error.
        self->pending_error_ = e.what();
        archive_set_error(a, EIO, "%s", e.what());
        return 0;
    }
}

namespace {

EntryType entry_type(archive_entry* e) {
    if (archive_entry_hardlink(e)) return EntryType::hardlink;
    switch (archive_entry_filetype(e)) {
        case AE_IFREG:
            return EntryType::regular;
        case AE_IFDIR:
            return EntryType::directory;
        case AE_IFLNK:
            return EntryType::symlink;
        case AE_IFCHR:
            return EntryType::char_device;
        case AE_IFBLK:
            return EntryType::block_device;
        case AE_IFIFO:
            return EntryType::fifo;
        default:
            throw Error("unsupported entry type");
    }
}

std::string str_or_empty(const char* s) {
    return s ? s : "";
}

}  // namespace

void LayerReader::drain() {
    // Reading past the end-of-archive blocks to the end of the stream lets the readers
    // underneath check digests and trailing data.
    char buf[8192];
    while (stream_->read(buf, sizeof buf) > 0) {
    }
}

bool LayerReader::next(Entry& out) {
    if (empty_) {
        drain();
        return false;
    }
    archive_entry* e = nullptr;
    int rc = archive_read_next_header(archive_, &e);
    if (rc == ARCHIVE_EOF) {
        // libarchive may take a failed read after an end-of-archive block for the end
        // itself; the failure (a digest mismatch found at the end of the stream) stands.
        if (!pending_error_.empty()) throw Error(what_ + ": " + pending_error_);
        with_context(what_, [&] { drain(); });
        return false;
    }
    if (rc < ARCHIVE_WARN) {
        std::string msg = !pending_error_.empty() ? pending_error_ : archive_error_string(archive_);
        throw Error(what_ + ": " + msg);
    }
    const char* raw = archive_entry_pathname(e);
    if (!raw) throw Error(what_ + ": entry without a name");
    with_context(what_, [&] {
        out.path = normalize_entry_path(raw);
        out.type = entry_type(e);
    });
    out.mode = archive_entry_perm(e) & 07777;
    out.uid = archive_entry_uid(e);
    out.gid = archive_entry_gid(e);
    // Linux ids are 32-bit and (uid_t)-1 means "no change": anything else cannot exist.
    constexpr int64_t kMaxId = 0xfffffffeLL;
    if (out.uid < 0 || out.uid > kMaxId || out.gid < 0 || out.gid > kMaxId) {
        throw Error(what_ + ": " + out.path + ": owner " + std::to_string(out.uid) + ":" +
                    std::to_string(out.gid) + " is out of range");
    }
    out.uname = str_or_empty(archive_entry_uname(e));
    out.gname = str_or_empty(archive_entry_gname(e));
    out.mtime = archive_entry_mtime(e);
    out.mtime_nsec = archive_entry_mtime_nsec(e);
    out.size = out.type == EntryType::regular && archive_entry_size_is_set(e)
                   ? static_cast<uint64_t>(archive_entry_size(e))
                   : 0;
    out.link_target.clear();
    if (out.type == EntryType::hardlink) {
        with_context(what_ + ": hard link " + out.path,
                     [&] { out.link_target = normalize_entry_path(archive_entry_hardlink(e)); });
    } else if (out.type == EntryType::symlink) {
        out.link_target = str_or_empty(archive_entry_symlink(e));
    }
    out.dev_major = out.dev_minor = 0;
    if (out.type == EntryType::char_device || out.type == EntryType::block_device) {
        out.dev_major = archive_entry_rdevmajor(e);
        out.dev_minor = archive_entry_rdevminor(e);
    }
    out.xattrs.clear();
    archive_entry_xattr_reset(e);
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
        out.xattrs.emplace_back(name, std::string(static_cast<const char*>(value), size));
    }
    std::sort(out.xattrs.begin(), out.xattrs.end());
    return true;
}

size_t LayerReader::read_data(void* buf, size_t n) {
    la_ssize_t got = archive_read_data(archive_, buf, n);
    if (got < 0) {
        std::string msg = !pending_error_.empty() ? pending_error_ : archive_error_string(archive_);
        throw Error(what_ + ": " + msg);
    }
    return static_cast<size_t>(got);
}

}  // namespace d2a
