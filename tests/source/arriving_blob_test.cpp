// ArrivingBlob: a reader that follows a download never turns a good blob into an error,
// whatever the order in which the download writes, completes and the reader looks.
#include "source/arriving_blob.hpp"

#include <gtest/gtest.h>

#include <random>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "support/helpers.hpp"
#include "util/error.hpp"

namespace d2a {
namespace {

using testing::error_of;

// A blob and the file its download writes.
struct Download {
    explicit Download(const std::string& content, bool private_file = true)
        : file(std::make_shared<FileDescriptor>(make_scratch_file())) {
        ArrivingBlob::Info info;
        info.name = "scratch copy of test";
        info.file = file;
        info.digest = Digest::of(content, HashAlgorithm::sha256);
        info.checked_size = content.size();
        info.private_file = private_file;
        blob = std::make_shared<ArrivingBlob>(std::move(info));
    }
    void write(const std::string& bytes) const {
        write_fully(file->get(), bytes.data(), bytes.size(), "test blob");
        blob->arrived();
    }
    std::shared_ptr<FileDescriptor> file;
    std::shared_ptr<ArrivingBlob> blob;
};

std::string read_to_end(Reader& reader, size_t chunk = 7) {
    std::string out;
    std::vector<char> buf(chunk);  // small: many reads, some across a write's boundary
    for (size_t n; (n = reader.read(buf.data(), buf.size())) > 0;) out.append(buf.data(), n);
    return out;
}

// The interleaving behind "scratch copy of sha256:…: unexpected end of file": the reader
// finds no bytes; before it looks again, the download writes the whole (small) blob and
// completes it. The reader must read the bytes, not report an early end.
TEST(ArrivingBlob, BlobWrittenAndCompletedAfterAnEmptyReadIsRead) {
    const std::string content = "a tiny layer of 0.2 kB";
    Download d(content);
    auto reader = d.blob->open();
    int empty_reads = 0;
    d.blob->set_empty_read_hook([&] {
        if (++empty_reads > 1) return;
        d.write(content);
        d.blob->complete(content.size());
    });
    EXPECT_EQ(read_to_end(*reader), content);
    EXPECT_EQ(empty_reads, 1);
    EXPECT_EQ(reader->read(nullptr, 1), 0u);  // and stays at its end
}

// The same with a blob that already had bytes: the reader is past them when the rest
// arrives and the blob completes.
TEST(ArrivingBlob, RestWrittenAndCompletedAfterAnEmptyReadIsRead) {
    const std::string content = "first part|second part";
    Download d(content);
    d.write(content.substr(0, 11));
    auto reader = d.blob->open();
    char buf[64];
    ASSERT_EQ(reader->read(buf, sizeof buf), 11u);
    bool written = false;
    d.blob->set_empty_read_hook([&] {
        if (std::exchange(written, true)) return;
        d.write(content.substr(11));
        d.blob->complete(content.size());
    });
    EXPECT_EQ(std::string(buf, 11) + read_to_end(*reader), content);
}

// Bytes arrive (without the end) after an empty read: the reader reads them instead of
// waiting for a notification that has already been sent.
TEST(ArrivingBlob, BytesWrittenAfterAnEmptyReadAreReadWithoutWaiting) {
    const std::string content = "0123456789";
    Download d(content);
    auto reader = d.blob->open();
    bool written = false;
    d.blob->set_empty_read_hook([&] {
        if (!std::exchange(written, true)) d.write(content);
    });
    char buf[64];
    EXPECT_EQ(reader->read(buf, sizeof buf), content.size());
    d.blob->complete(content.size());
    EXPECT_EQ(reader->read(buf, sizeof buf), 0u);
}

// A complete blob whose file is shorter than its verified size was cut short by someone
// else: an error, not a wait or an endless loop.
TEST(ArrivingBlob, FileShorterThanItsVerifiedSizeIsAnError) {
    const std::string content = "0123456789";
    Download d(content, false);
    d.write(content);
    d.blob->complete(content.size());
    auto reader = d.blob->open();
    ASSERT_EQ(::ftruncate(d.file->get(), 4), 0);
    EXPECT_EQ(error_of([&] { read_to_end(*reader); }),
              "scratch copy of test: unexpected end of file");
}

// The end is the verified size, not the file's: bytes past it are never returned.
TEST(ArrivingBlob, ReadsStopAtTheVerifiedSize) {
    Download d("0123");
    d.write("0123456789");
    d.blob->complete(4);
    auto reader = d.blob->open();
    EXPECT_EQ(read_to_end(*reader), "0123");
}

// A reader waiting at the end of what arrived gets the download's failure.
TEST(ArrivingBlob, WaitingReaderGetsTheFailure) {
    Download d("0123456789");
    d.write("01234");
    auto reader = d.blob->open();
    char buf[64];
    ASSERT_EQ(reader->read(buf, sizeof buf), 5u);
    std::thread failing([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        d.blob->fail(std::make_exception_ptr(Error("blob sha256:x: connection reset")));
    });
    EXPECT_EQ(error_of([&] { reader->read(buf, sizeof buf); }), "blob sha256:x: connection reset");
    failing.join();
    // A failure after the end was verified changes nothing.
    Download done("ab");
    done.write("ab");
    done.blob->complete(2);
    done.blob->fail(std::make_exception_ptr(Error("late")));
    auto r2 = done.blob->open();
    EXPECT_EQ(read_to_end(*r2), "ab");
}

TEST(ArrivingBlob, OnlyAPrivateFileEndsVerified) {
    const std::string content = "abc";
    const Digest digest = Digest::of(content, HashAlgorithm::sha256);
    Download scratch(content, true);
    Download cached(content, false);
    EXPECT_TRUE(scratch.blob->open()->ends_verified_as(digest, 3));
    EXPECT_TRUE(scratch.blob->open()->ends_verified_as(digest, std::nullopt));
    EXPECT_FALSE(scratch.blob->open()->ends_verified_as(digest, 4));
    EXPECT_FALSE(scratch.blob->open()->ends_verified_as(Digest::of("x", HashAlgorithm::sha256), 3));
    EXPECT_FALSE(cached.blob->open()->ends_verified_as(digest, 3));
}

// Many readers, a writer in pieces of random sizes with random pauses, the end recorded
// right after the last write: every reader reads every byte, every time. Run under TSan too.
TEST(ArrivingBlob, ReadersAlongsideADownloadReadEveryByte) {
    std::mt19937 rng(31);
    for (int round = 0; round < 200; ++round) {
        std::string content(1 + rng() % 600, '\0');
        for (auto& c : content) c = static_cast<char>('a' + rng() % 26);
        Download d(content);
        std::vector<std::string> got(4);
        std::vector<std::thread> readers;
        for (auto& out : got) {
            readers.emplace_back([&d, &out, chunk = 1 + rng() % 64] {
                auto reader = d.blob->open();
                out = read_to_end(*reader, chunk);
            });
        }
        for (size_t at = 0; at < content.size();) {
            const size_t piece = std::min<size_t>(content.size() - at, 1 + rng() % 200);
            d.write(content.substr(at, piece));
            at += piece;
            if (rng() % 4 == 0) std::this_thread::yield();
        }
        d.blob->complete(content.size());
        for (auto& t : readers) t.join();
        for (const auto& out : got) ASSERT_EQ(out, content) << "round " << round;
    }
}

}  // namespace
}  // namespace d2a
