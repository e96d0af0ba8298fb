// AciTarWriter: the ACI's tar as a reader sees it, read back with libarchive: names under
// rootfs/ (directories with a trailing slash), hard-link targets prefixed too, owners beyond
// ustar's range, long names and xattrs through PAX, nanosecond times, device numbers, file data
// byte for byte.
#include "aci/tar_writer.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <map>

#include "support/helpers.hpp"
#include "util/error.hpp"

namespace d2a {
namespace {

using testing::StringWriter;

struct ReadEntry {
    std::string hardlink, symlink, data;
    mode_t type = 0, perm = 0;
    int64_t uid = 0, gid = 0, mtime = 0;
    long mtime_nsec = 0;
    dev_t rdev_major = 0, rdev_minor = 0;
    std::map<std::string, std::string> xattrs;
};

std::vector<std::pair<std::string, ReadEntry>> read_tar(const std::string& bytes) {
    archive* a = archive_read_new();
    archive_read_support_format_tar(a);
    EXPECT_EQ(archive_read_open_memory(a, bytes.data(), bytes.size()), ARCHIVE_OK);
    std::vector<std::pair<std::string, ReadEntry>> out;
    archive_entry* e = nullptr;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        ReadEntry r;
        if (const char* h = archive_entry_hardlink(e)) r.hardlink = h;
        if (const char* s = archive_entry_symlink(e)) r.symlink = s;
        r.type = archive_entry_filetype(e);
        r.perm = archive_entry_perm(e);
        r.uid = archive_entry_uid(e);
        r.gid = archive_entry_gid(e);
        r.mtime = archive_entry_mtime(e);
        r.mtime_nsec = archive_entry_mtime_nsec(e);
        r.rdev_major = archive_entry_rdevmajor(e);
        r.rdev_minor = archive_entry_rdevminor(e);
        archive_entry_xattr_reset(e);
        const char* name = nullptr;
        const void* value = nullptr;
        size_t size = 0;
        while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK)
            r.xattrs[name] = std::string(static_cast<const char*>(value), size);
        char buf[4096];
        la_ssize_t n;
        while ((n = archive_read_data(a, buf, sizeof buf)) > 0) r.data.append(buf, n);
        out.emplace_back(archive_entry_pathname(e), r);
    }
    archive_read_free(a);
    return out;
}

Entry entry(const std::string& path, EntryType type, uint32_t mode = 0644) {
    Entry e;
    e.path = path;
    e.type = type;
    e.mode = mode;
    e.mtime = 1700000000;
    return e;
}

TEST(AciTarWriter, WritesWhatAReaderExpects) {
    StringWriter out;
    {
        AciTarWriter w(out);
        w.write_manifest(R"({"acKind":"ImageManifest"})");
        Entry root = entry("", EntryType::directory, 0755);
        root.uid = 7;
        w.write_rootfs_dir(&root);
        w.add(entry("etc", EntryType::directory, 0755), nullptr);

        Entry file = entry("etc/passwd", EntryType::regular, 04755);
        file.size = 5;
        file.uid = 3000000;  // beyond ustar's 7 octal digits
        file.gid = 42;
        file.mtime_nsec = 123456789;
        file.xattrs = {{"security.capability", std::string("\x01\x00\x00\x02", 4)},
                       {"user.note", "hi"}};
        MemoryReader data("root\n");
        w.add(file, &data);

        Entry link = entry("etc/passwd-", EntryType::hardlink);
        link.link_target = "etc/passwd";
        w.add(link, nullptr);
        Entry sym = entry("etc/mtab", EntryType::symlink, 0777);
        sym.link_target = "../proc/self/mounts";  // verbatim, never rewritten
        w.add(sym, nullptr);
        std::string long_name = "etc/" + std::string(150, 'n');
        Entry long_file = entry(long_name, EntryType::regular);
        MemoryReader empty("");
        w.add(long_file, &empty);
        Entry dev = entry("dev/null", EntryType::char_device, 0666);
        dev.dev_major = 1;
        dev.dev_minor = 3;
        w.add(dev, nullptr);
        w.finish();
    }
    auto entries = read_tar(out.data);
    std::vector<std::string> names;
    for (const auto& [name, _] : entries) names.push_back(name);
    EXPECT_EQ(names,
              (std::vector<std::string>{"manifest", "rootfs/", "rootfs/etc/", "rootfs/etc/passwd",
                                        "rootfs/etc/passwd-", "rootfs/etc/mtab",
                                        "rootfs/etc/" + std::string(150, 'n'), "rootfs/dev/null"}));
    ASSERT_EQ(entries.size(), 8u);
    EXPECT_EQ(entries[0].second.data, R"({"acKind":"ImageManifest"})");
    EXPECT_EQ(entries[1].second.type, AE_IFDIR);
    EXPECT_EQ(entries[1].second.uid, 7);
    const ReadEntry& passwd = entries[3].second;
    EXPECT_EQ(passwd.type, AE_IFREG);
    EXPECT_EQ(passwd.perm, 04755u);
    EXPECT_EQ(passwd.uid, 3000000);
    EXPECT_EQ(passwd.gid, 42);
    EXPECT_EQ(passwd.mtime, 1700000000);
    EXPECT_EQ(passwd.mtime_nsec, 123456789);
    EXPECT_EQ(passwd.data, "root\n");
    EXPECT_EQ(passwd.xattrs, (std::map<std::string, std::string>{
                                 {"security.capability", std::string("\x01\x00\x00\x02", 4)},
                                 {"user.note", "hi"}}));
    EXPECT_EQ(entries[4].second.hardlink, "rootfs/etc/passwd");
    EXPECT_EQ(entries[5].second.symlink, "../proc/self/mounts");
    EXPECT_EQ(entries[7].second.type, AE_IFCHR);
    EXPECT_EQ(entries[7].second.rdev_major, 1u);
    EXPECT_EQ(entries[7].second.rdev_minor, 3u);
}

// A file whose stream ends before its declared size must not produce a short entry that
// a reader would take for the next header.
TEST(AciTarWriter, ShortDataIsAnError) {
    StringWriter out;
    AciTarWriter w(out);
    w.write_manifest("{}");
    w.write_rootfs_dir(nullptr);
    Entry file = entry("f", EntryType::regular);
    file.size = 10;
    MemoryReader data("short");
    EXPECT_THROW(w.add(file, &data), Error);
}

}  // namespace
}  // namespace d2a
