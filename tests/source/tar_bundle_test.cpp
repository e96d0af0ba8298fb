#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include "source/bundle.hpp"
#include "util/error.hpp"

namespace d2a {
namespace {

struct Member {
    std::string name;
    std::string data;
    std::string symlink;
};

// A tar written by libarchive in `format` (pax or gnu), kept in a memfd.
std::shared_ptr<FileDescriptor> tar_file(const std::vector<Member>& members, bool gnu,
                                         size_t cut = 0) {
    std::string out;
    archive* a = archive_write_new();
    if (gnu)
        archive_write_set_format_gnutar(a);
    else
        archive_write_set_format_pax(a);
    archive_write_open(
        a, &out, nullptr,
        [](archive*, void* o, const void* b, size_t n) -> la_ssize_t {
            static_cast<std::string*>(o)->append(static_cast<const char*>(b), n);
            return static_cast<la_ssize_t>(n);
        },
        nullptr);
    for (const auto& m : members) {
        archive_entry* e = archive_entry_new();
        archive_entry_set_pathname(e, m.name.c_str());
        if (!m.symlink.empty()) {
            archive_entry_set_filetype(e, AE_IFLNK);
            archive_entry_set_symlink(e, m.symlink.c_str());
        } else {
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_size(e, static_cast<la_int64_t>(m.data.size()));
        }
        archive_entry_set_perm(e, 0644);
        archive_write_header(a, e);
        if (!m.data.empty()) archive_write_data(a, m.data.data(), m.data.size());
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
    if (cut) out.resize(cut);
    int fd = memfd_create("tar", MFD_CLOEXEC);
    EXPECT_EQ(write(fd, out.data(), out.size()), static_cast<ssize_t>(out.size()));
    return std::make_shared<FileDescriptor>(fd);
}

TEST(TarBundle, LongNamesLinksAndReads) {
    const std::string long_name = std::string(150, 'd') + "/" + std::string(120, 'f');
    for (bool gnu : {false, true}) {
        TarBundle b(tar_file({{"manifest.json", "[1]", ""},
                              {long_name, "long", ""},
                              {"abc/layer.tar", "", "../x.tar"},
                              {"x.tar", "layer-bytes", ""},
                              {"./dup", "first", ""},
                              {"dup", "second", ""}},
                             gnu),
                    "t.tar");
        EXPECT_EQ(b.read_file("manifest.json", 100), "[1]");
        EXPECT_EQ(b.read_file(long_name, 100), "long");
        EXPECT_EQ(b.resolve("abc/layer.tar"), "x.tar");
        EXPECT_EQ(b.read_file("abc/layer.tar", 100), "layer-bytes");
        EXPECT_EQ(b.read_file("dup", 100), "second");  // a later member of a name wins
        EXPECT_FALSE(b.exists("missing"));
        EXPECT_THROW((void)b.read_file("manifest.json", 2), Error);  // over the limit
    }
}

TEST(TarBundle, RejectsTruncationEscapesAndLoops) {
    std::string big(5000, 'x');
    EXPECT_THROW(TarBundle(tar_file({{"a", big, ""}}, false, 2048), "cut.tar"), Error);
    TarBundle escape(tar_file({{"l", "", "../../etc/passwd"}}, false), "e.tar");
    EXPECT_THROW((void)escape.resolve("l"), Error);
    TarBundle loop(tar_file({{"a", "", "b"}, {"b", "", "a"}}, false), "loop.tar");
    EXPECT_THROW((void)loop.resolve("a"), Error);
}

}  // namespace
}  // namespace d2a
