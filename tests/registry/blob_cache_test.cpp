// BlobCache: verified hits, corrupt entries replaced, partial downloads resumed or removed
// by whether their writer still holds them, nothing left in tmp/ when a blob cannot be
// stored, and a cache directory written by others: links, hard links, FIFOs, sockets and
// directories planted in it neither lead the cache outside nor block or break a pull.
#include "registry/blob_cache.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <future>
#include <vector>

#include "support/helpers.hpp"
#include "util/error.hpp"

namespace d2a {
namespace {

namespace fs = std::filesystem;

class BlobCacheTest : public ::testing::Test {
  protected:
    static void write(const fs::path& path, const std::string& bytes) {
        std::ofstream(path, std::ios::binary) << bytes;
    }
    static std::string read_all(const CachedBlob& blob) {
        std::string out(blob.size, '\0');
        EXPECT_EQ(::pread(blob.file->get(), out.data(), out.size(), 0),
                  static_cast<ssize_t>(out.size()));
        return out;
    }
    // A fetch that appends what is missing of `content` to the file (as a registry resumes
    // with Range) and records how much was there already.
    static auto fetcher(const std::string& content, uint64_t* found_before) {
        return [content, found_before](const FileDescriptor& file, const std::string&) {
            uint64_t have = file_size(file.get());
            if (found_before) *found_before = have;
            ASSERT_EQ(::lseek(file.get(), static_cast<off_t>(have), SEEK_SET),
                      static_cast<off_t>(have));
            write_fully(file.get(), content.data() + have, content.size() - have, "test");
        };
    }
    size_t tmp_files() const {
        size_t n = 0;
        for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_ / "tmp")) ++n;
        return n;
    }

    testing::TempDir temp_;
    const fs::path dir_ = temp_.path();
    const std::string content_ = std::string(100000, 'b') + "end";
    const Digest digest_ = Digest::of(content_, HashAlgorithm::sha256);
};

TEST_F(BlobCacheTest, DownloadsOnceThenHits) {
    BlobCache cache(dir_);
    bool fetched = false;
    CachedBlob first = cache.get(digest_, fetcher(content_, nullptr), &fetched);
    EXPECT_TRUE(fetched);
    EXPECT_TRUE(read_all(first) == content_);
    EXPECT_EQ(first.path, dir_ / "blobs" / "sha256" / digest_.hex);
    CachedBlob again = cache.get(
        digest_, [](const FileDescriptor&, const std::string&) { FAIL() << "fetched again"; },
        &fetched);
    EXPECT_FALSE(fetched);
    EXPECT_TRUE(read_all(again) == content_);
    EXPECT_EQ(tmp_files(), 0u);
}

TEST_F(BlobCacheTest, CorruptEntryIsReplaced) {
    BlobCache cache(dir_);
    write(dir_ / "blobs" / "sha256" / digest_.hex, "not the blob");
    EXPECT_FALSE(cache.find(digest_));
    bool fetched = false;
    EXPECT_TRUE(read_all(cache.get(digest_, fetcher(content_, nullptr), &fetched)) == content_);
    EXPECT_TRUE(fetched);
    EXPECT_TRUE(read_all(*cache.find(digest_)) == content_);
}

// A download killed half way left its file, which nobody holds: the next download of the
// same blob continues from it.
TEST_F(BlobCacheTest, AbandonedPartialIsResumed) {
    BlobCache opened(dir_);
    write(dir_ / "tmp" / (digest_.hex + ".123.456"), content_.substr(0, 60000));
    BlobCache cache(dir_);  // young: kept at open for a rerun to resume
    EXPECT_EQ(tmp_files(), 1u);
    uint64_t found = 0;
    CachedBlob blob = cache.get(digest_, fetcher(content_, &found));
    EXPECT_EQ(found, 60000u);
    EXPECT_TRUE(read_all(blob) == content_);
    EXPECT_EQ(tmp_files(), 0u);
}

// A resumed prefix that turns out wrong is started over once, not reported as the error.
TEST_F(BlobCacheTest, WrongPartialIsStartedOver) {
    BlobCache cache(dir_);
    write(dir_ / "tmp" / (digest_.hex + ".1.2"), std::string(60000, 'x'));
    int calls = 0;
    CachedBlob blob = cache.get(digest_, [&](const FileDescriptor& file, const std::string&) {
        ++calls;
        uint64_t have = file_size(file.get());
        ASSERT_EQ(::lseek(file.get(), static_cast<off_t>(have), SEEK_SET),
                  static_cast<off_t>(have));
        write_fully(file.get(), content_.data() + have, content_.size() - have, "test");
        if (!file_has_digest(file, digest_)) throw Error("digest mismatch");
    });
    EXPECT_EQ(calls, 2);
    EXPECT_TRUE(read_all(blob) == content_);
}

// A partial file whose writer still holds its lock is another live download: neither
// resumed nor removed, however old.
TEST_F(BlobCacheTest, LiveDownloadIsLeftAlone) {
    BlobCache opened(dir_);
    fs::path live = dir_ / "tmp" / (digest_.hex + ".9.9");
    write(live, "partial");
    FileDescriptor holder(::open(live.c_str(), O_RDWR));
    ASSERT_EQ(::flock(holder.get(), LOCK_EX), 0);
    fs::last_write_time(live, fs::file_time_type::clock::now() - std::chrono::hours(5));
    BlobCache cache(dir_);
    uint64_t found = 99;
    cache.get(digest_, fetcher(content_, &found));
    EXPECT_EQ(found, 0u);  // a fresh file, not the live one
    EXPECT_TRUE(fs::exists(live));
}

// An abandoned partial older than an hour goes when a cache is opened.
TEST_F(BlobCacheTest, OldAbandonedPartialIsRemovedAtOpen) {
    BlobCache opened(dir_);
    fs::path old = dir_ / "tmp" / (digest_.hex + ".1.2");
    write(old, "partial");
    fs::last_write_time(old, fs::file_time_type::clock::now() - std::chrono::minutes(61));
    BlobCache cache(dir_);
    EXPECT_FALSE(fs::exists(old));
}

// A directory holds the blob's name: the blob is used uncached (said once), the directory
// is left as it is, and no copy stays in tmp/.
TEST_F(BlobCacheTest, BlobWhoseNameADirectoryHoldsIsUsedUncached) {
    std::vector<std::string> notes;
    BlobCache cache(dir_, [&](const std::string& m) { notes.push_back(m); });
    fs::create_directories(dir_ / "blobs" / "sha256" / digest_.hex / "x");
    bool fetched = false;
    EXPECT_TRUE(read_all(cache.get(digest_, fetcher(content_, nullptr), &fetched)) == content_);
    EXPECT_TRUE(fetched);
    cache.put(digest_, content_);
    cache.get(digest_, fetcher(content_, nullptr));
    EXPECT_TRUE(fs::is_directory(dir_ / "blobs" / "sha256" / digest_.hex / "x"));
    EXPECT_EQ(tmp_files(), 0u);
    const std::string path = (dir_ / "blobs" / "sha256" / digest_.hex).string();
    EXPECT_EQ(notes, (std::vector<std::string>{
                         "cache: " + path + " is a directory; fetched again",
                         "cache: " + path + " is a directory, which the cache cannot replace: " +
                             digest_.str() + " used without caching it"}));
}

TEST_F(BlobCacheTest, TmpThatIsAFileIsNamed) {
    write(dir_ / "tmp", "");
    EXPECT_EQ(testing::error_of([&] { BlobCache cache(dir_); }),
              "cache directory " + dir_.string() + ": " + (dir_ / "tmp").string() +
                  " is not a directory");
}

// tmp/ or blobs/sha256/ a link to another directory: an error naming it, and nothing in
// that directory touched (old files there would be "abandoned downloads" if followed).
TEST_F(BlobCacheTest, LinkedDirectoriesAreRefusedAndNothingOutsideIsTouched) {
    testing::TempDir victim;
    const fs::path old = victim.path() / (digest_.hex + ".1.2");
    write(old, "precious");
    fs::last_write_time(old, fs::file_time_type::clock::now() - std::chrono::hours(5));
    for (const fs::path& link :
         {fs::path("tmp"), fs::path("blobs") / "sha256", fs::path("blobs")}) {
        testing::TempDir cache_dir;
        fs::create_directories(cache_dir.path() / link.parent_path());
        fs::create_directory_symlink(victim.path(), cache_dir.path() / link);
        EXPECT_EQ(testing::error_of([&] { BlobCache cache(cache_dir.path()); }),
                  "cache directory " + cache_dir.path().string() + ": " +
                      (cache_dir.path() / link).string() + " is a symbolic link, not a directory");
    }
    EXPECT_EQ(fs::file_size(old), 8u);
    size_t entries = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(victim.path())) ++entries;
    EXPECT_EQ(entries, 1u);
}

// A hard link to a file outside, planted in tmp/ under a download's name (old enough to be
// removed, with bytes that make the resume fail): never resumed, truncated or removed.
TEST_F(BlobCacheTest, HardLinkPlantedInTmpIsLeftAlone) {
    testing::TempDir victim;
    const fs::path target = victim.path() / "passwd";
    write(target, "root:x:0:0::/root:/bin/sh\n");
    BlobCache opened(dir_);
    const fs::path planted = dir_ / "tmp" / (digest_.hex + ".1.2");
    fs::create_hard_link(target, planted);
    fs::last_write_time(planted, fs::file_time_type::clock::now() - std::chrono::hours(5));
    std::vector<std::string> notes;
    BlobCache cache(dir_, [&](const std::string& m) { notes.push_back(m); });
    uint64_t found = 99;
    EXPECT_TRUE(read_all(cache.get(digest_, fetcher(content_, &found))) == content_);
    EXPECT_EQ(found, 0u);  // a fresh file, not the planted one
    std::ifstream in(target, std::ios::binary);
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "root:x:0:0::/root:/bin/sh\n");
    EXPECT_TRUE(fs::exists(planted));
    EXPECT_EQ(notes, (std::vector<std::string>{
                         "cache: left alone " + planted.string() + " (a file with 2 links)",
                         "cache: not resumed " + planted.string() + " (a file with 2 links)"}));
}

// A FIFO, a socket, a symbolic link or a directory at a blob's name (the config's, whose
// lookup comes first even for an unchanged image): the lookup never waits, and the next
// download replaces the entry (a directory holds its name: used uncached).
TEST_F(BlobCacheTest, EntriesThatAreNotFilesNeverBlockAndAreReplaced) {
    const fs::path entry = dir_ / "blobs" / "sha256" / digest_.hex;
    for (const std::string kind : {"fifo", "socket", "symlink", "directory"}) {
        fs::remove_all(dir_);
        BlobCache cache(dir_);
        if (kind == "fifo") {
            ASSERT_EQ(::mkfifo(entry.c_str(), 0666), 0);
        }
        if (kind == "socket") {
            int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
            sockaddr_un addr{};
            addr.sun_family = AF_UNIX;
            ASSERT_LT(entry.string().size(), sizeof addr.sun_path);
            std::strcpy(addr.sun_path, entry.c_str());
            ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
            ::close(s);
        }
        if (kind == "symlink") fs::create_symlink("/etc/passwd", entry);
        if (kind == "directory") fs::create_directories(entry / "sub");
        // Run on a thread so that a lookup that blocks fails the test instead of hanging it.
        auto looked_up = std::async(std::launch::async,
                                    [&] { return cache.get(digest_, fetcher(content_, nullptr)); });
        if (looked_up.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
            // Blocked on the FIFO: a writer releases it, so the test fails instead of hanging.
            FileDescriptor writer(::open(entry.c_str(), O_WRONLY | O_NONBLOCK));
            looked_up.wait();
            FAIL() << "the lookup of a " << kind << " blocked";
        }
        EXPECT_TRUE(read_all(looked_up.get()) == content_) << kind;
        if (kind == "directory") {
            EXPECT_TRUE(fs::is_directory(entry / "sub"));
        } else {
            EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(entry))) << kind;
            EXPECT_TRUE(read_all(*cache.find(digest_)) == content_) << kind;
        }
        EXPECT_EQ(tmp_files(), 0u) << kind;
    }
}

// Another user's partial download, even a genuine prefix, is neither resumed nor removed.
TEST_F(BlobCacheTest, AnotherUsersPartialIsLeftAlone) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to make a file of another user";
    BlobCache opened(dir_);
    const fs::path theirs = dir_ / "tmp" / (digest_.hex + ".7.7");
    write(theirs, content_.substr(0, 1000));
    ASSERT_EQ(::chown(theirs.c_str(), 65534, 65534), 0);
    fs::last_write_time(theirs, fs::file_time_type::clock::now() - std::chrono::hours(5));
    BlobCache cache(dir_);
    uint64_t found = 99;
    cache.get(digest_, fetcher(content_, &found));
    EXPECT_EQ(found, 0u);
    EXPECT_EQ(fs::file_size(theirs), 1000u);
}

TEST_F(BlobCacheTest, FilesFollowTheUmask) {
    mode_t old = ::umask(002);
    {
        BlobCache cache(dir_);
        cache.put(digest_, content_);
    }
    ::umask(old);
    struct stat st {};
    ASSERT_EQ(::stat((dir_ / "blobs" / "sha256" / digest_.hex).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0664u);
}

}  // namespace
}  // namespace d2a
