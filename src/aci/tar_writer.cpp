#include "aci/tar_writer.hpp"

#include <archive.h>
#include <archive_entry.h>

#include "util/error.hpp"

namespace d2a {

namespace {

struct EntryDeleter {
    void operator()(archive_entry* e) const { archive_entry_free(e); }
};

mode_t file_type(EntryType t) {
    switch (t) {
        case EntryType::regular:
            return AE_IFREG;
        case EntryType::directory:
            return AE_IFDIR;
        case EntryType::symlink:
            return AE_IFLNK;
        case EntryType::hardlink:
            return AE_IFREG;
        case EntryType::char_device:
            return AE_IFCHR;
        case EntryType::block_device:
            return AE_IFBLK;
        case EntryType::fifo:
            return AE_IFIFO;
    }
    return AE_IFREG;
}

}  // namespace

AciTarWriter::AciTarWriter(Writer& out) : out_(out), buffer_(1 << 17) {
    archive_ = archive_write_new();
    archive_write_set_format_pax_restricted(archive_);
    archive_write_set_bytes_per_block(archive_, 10240);
    archive_write_set_bytes_in_last_block(archive_, 1);
    if (archive_write_open(archive_, this, nullptr, &AciTarWriter::write_callback, nullptr) !=
        ARCHIVE_OK) {
        std::string msg = archive_error_string(archive_);
        archive_write_free(archive_);
        archive_ = nullptr;
        throw Error("cannot start the ACI tar: " + msg);
    }
}

AciTarWriter::~AciTarWriter() {
    if (archive_) archive_write_free(archive_);
}

long AciTarWriter::write_callback(archive* a, void* self_ptr, const void* buf, size_t n) {
    auto* self = static_cast<AciTarWriter*>(self_ptr);
    try {
        self->out_.write(buf, n);
        return static_cast<long>(n);
    } catch (const Error& e) {
        self->pending_error_ = e.what();
        archive_set_error(a, EIO, "%s", e.what());
        return -1;
    }
}

void AciTarWriter::write_entry(const Entry& e, const std::string& name, const std::string& hardlink,
                               Reader* data) {
    std::unique_ptr<archive_entry, EntryDeleter> ae(archive_entry_new());
    archive_entry_set_pathname(ae.get(), name.c_str());
    archive_entry_set_filetype(ae.get(), file_type(e.type));
    archive_entry_set_perm(ae.get(), e.mode & 07777);
    archive_entry_set_uid(ae.get(), e.uid);
    archive_entry_set_gid(ae.get(), e.gid);
    if (!e.uname.empty()) archive_entry_set_uname(ae.get(), e.uname.c_str());
    if (!e.gname.empty()) archive_entry_set_gname(ae.get(), e.gname.c_str());
    archive_entry_set_mtime(ae.get(), e.mtime, e.mtime_nsec);
    if (e.type == EntryType::hardlink) {
        archive_entry_set_hardlink(ae.get(), hardlink.c_str());
        archive_entry_set_size(ae.get(), 0);
    } else if (e.type == EntryType::regular) {
        archive_entry_set_size(ae.get(), static_cast<la_int64_t>(e.size));
    } else {
        archive_entry_set_size(ae.get(), 0);
    }
    if (e.type == EntryType::symlink) archive_entry_set_symlink(ae.get(), e.link_target.c_str());
    if (e.type == EntryType::char_device || e.type == EntryType::block_device) {
        archive_entry_set_rdevmajor(ae.get(), e.dev_major);
        archive_entry_set_rdevminor(ae.get(), e.dev_minor);
    }
    for (const auto& [k, v] : e.xattrs) {
        archive_entry_xattr_add_entry(ae.get(), k.c_str(), v.data(), v.size());
    }
    auto fail = [&](const std::string& what) {
        throw Error(what + " " + name + ": " +
                    (pending_error_.empty() ? archive_error_string(archive_) : pending_error_));
    };
    if (archive_write_header(archive_, ae.get()) < ARCHIVE_WARN) fail("writing");
    if (e.type == EntryType::regular && e.size > 0) {
        if (!data) throw Error("no data for " + name);
        uint64_t left = e.size;
        while (left > 0) {
            size_t want = static_cast<size_t>(std::min<uint64_t>(left, buffer_.size()));
            size_t got = data->read(buffer_.data(), want);
            if (got == 0) throw Error(name + ": data ends before its size");
            if (archive_write_data(archive_, buffer_.data(), got) < 0) fail("writing");
            left -= got;
        }
    }
}

void AciTarWriter::write_manifest(const std::string& manifest_json) {
    Entry e;
    e.type = EntryType::regular;
    e.mode = 0644;
    e.size = manifest_json.size();
    MemoryReader data(manifest_json);
    write_entry(e, "manifest", "", &data);
}

void AciTarWriter::write_rootfs_dir(const Entry* root_meta) {
    Entry e;
    if (root_meta) e = *root_meta;
    e.type = EntryType::directory;
    if (!root_meta) e.mode = 0755;
    write_entry(e, "rootfs", "", nullptr);
}

void AciTarWriter::add(const Entry& entry, Reader* data) {
    write_entry(entry, "rootfs/" + entry.path,
                entry.type == EntryType::hardlink ? "rootfs/" + entry.link_target : "", data);
}

void AciTarWriter::finish() {
    if (archive_write_close(archive_) != ARCHIVE_OK) {
        throw Error("finishing the ACI tar: " +
                    (pending_error_.empty() ? archive_error_string(archive_) : pending_error_));
    }
}

}  // namespace d2a
