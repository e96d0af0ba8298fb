// BlobCache: verified hits, corrupt entries dropped, partial downloads resumed or removed by
// whether their writer still holds them, and nothing left in tmp/ when a blob cannot be
// stored.
#include "registry/blob_cache.hpp"

#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>

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

TEST_F(BlobCacheTest, CorruptEntryIsDroppedAndFetchedAgain) {
    BlobCache cache(dir_);
    fs::create_directories(dir_ / "blobs" / "sha256");
    write(dir_ / "blobs" / "sha256" / digest_.hex, "not the blob");
    EXPECT_FALSE(cache.find(digest_));
    EXPECT_FALSE(fs::exists(dir_ / "blobs" / "sha256" / digest_.hex));
    bool fetched = false;
    EXPECT_TRUE(read_all(cache.get(digest_, fetcher(content_, nullptr), &fetched)) == content_);
    EXPECT_TRUE(fetched);
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
    fs::path old = dir_ / "tmp" / "0123.1.2";
    write(old, "partial");
    fs::last_write_time(old, fs::file_time_type::clock::now() - std::chrono::minutes(61));
    BlobCache cache(dir_);
    EXPECT_FALSE(fs::exists(old));
}

// The blob cannot be renamed into place (here a directory holds its name): an error naming
// the blob, and no copy left in tmp/.
TEST_F(BlobCacheTest, UnstorableBlobLeavesNothing) {
    BlobCache cache(dir_);
    fs::create_directories(dir_ / "blobs" / "sha256" / digest_.hex / "x");
    try {
        cache.get(digest_, fetcher(content_, nullptr));
        FAIL() << "stored over a directory";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("cache: storing " + digest_.str()), std::string::npos)
            << e.what();
    }
    EXPECT_THROW(cache.put(digest_, content_), Error);
    EXPECT_EQ(tmp_files(), 0u);
}

TEST_F(BlobCacheTest, TmpThatIsAFileIsNamed) {
    write(dir_ / "tmp", "");
    try {
        BlobCache cache(dir_);
        FAIL() << "opened a cache whose tmp is a file";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()), "cache directory " + dir_.string() + ": " +
                                             (dir_ / "tmp").string() + " is not a directory");
    }
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
