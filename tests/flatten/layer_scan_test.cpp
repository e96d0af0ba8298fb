// LayerScanner: one layer's headers as the tree will take them, and scan_in_order: layers
// read at once but handed over in layer order, the first error in layer order winning.
#include "flatten/layer_scan.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "support/helpers.hpp"
#include "support/layer_builder.hpp"
#include "util/error.hpp"

namespace d2a {
namespace {

using ::d2a::testing::error_of;
using ::d2a::testing::LayerBuilder;

std::string name_of(size_t i) {
    return "layer " + std::to_string(i + 1);
}

TEST(LayerScanner, SortsALayerIntoEntriesAndWhiteouts) {
    const std::string tar = LayerBuilder()
                                .dir("etc")
                                .file("etc/passwd", "root:x:0:0::/root:/bin/sh\n")
                                .whiteout("usr", "gone")
                                .opaque("var")
                                .hardlink("etc/link", "etc/passwd")
                                .tar();
    const Limits limits{};
    LayerScanner scanner([&](size_t) { return std::make_unique<MemoryReader>(tar); }, limits,
                         {"etc/passwd"}, name_of);
    LayerScan scan = scanner.read(0, nullptr);
    ASSERT_EQ(scan.pending.size(), 3u);
    EXPECT_EQ(scan.pending[0].path, "etc");
    ASSERT_TRUE(scan.pending[0].dir_meta);
    EXPECT_EQ(scan.pending[1].path, "etc/passwd");
    EXPECT_EQ(scan.pending[1].captured, std::optional<std::string>("root:x:0:0::/root:/bin/sh\n"));
    EXPECT_EQ(scan.pending[2].type, EntryType::hardlink);
    EXPECT_EQ(scan.pending[2].link_target, "etc/passwd");
    EXPECT_EQ(scan.pending[2].ordinal, 4u);  // positions in the layer, whiteouts counted
    EXPECT_EQ(scan.removals, std::vector<std::string>{"usr/gone"});
    EXPECT_EQ(scan.opaque_dirs, std::vector<std::string>{"var"});
    EXPECT_EQ(scan.entries, 5u);
    EXPECT_GT(scan.name_bytes, 0u);
    scanner.release(scan);
    EXPECT_EQ(scan.name_bytes, 0u);
}

// The name budget counts the layers read but not yet applied: a scan that is released
// gives its bytes back, so the next layer fits again.
TEST(LayerScanner, PendingNamesAreChargedUntilReleased) {
    std::string long_name = "a";
    while (long_name.size() < 600) long_name += "/bbbbbbbbbbbbbbbbbbb";
    const std::string tar = LayerBuilder().file(long_name, "").tar();
    Limits limits;
    limits.max_pending_name_bytes = 1000;
    LayerScanner scanner([&](size_t) { return std::make_unique<MemoryReader>(tar); }, limits, {},
                         name_of);
    LayerScan first = scanner.read(0, nullptr);
    EXPECT_EQ(error_of([&] { scanner.read(1, nullptr); }),
              "layer 2: entry names add up to more than 1000 bytes");
    scanner.release(first);
    LayerScan again = scanner.read(1, nullptr);
    EXPECT_EQ(again.pending.size(), 1u);
}

// Layer 3 fails at once while layer 2 is still being read: the error reported is layer
// 2's, as if the layers had been read one by one, and layer 1 was applied before it.
TEST(ScanInOrder, FirstErrorInLayerOrderWins) {
    const std::string good = LayerBuilder().file("a", "1").tar();
    std::atomic<bool> third_failed{false};
    const Limits limits{};
    LayerScanner scanner(
        [&](size_t i) -> std::unique_ptr<Reader> {
            if (i == 2) {
                third_failed = true;
                throw Error("layer 3 is broken");
            }
            if (i == 1) {
                for (int waited = 0; waited < 5000 && !third_failed; ++waited)
                    std::this_thread::sleep_for(std::chrono::milliseconds(1));
                throw Error("layer 2 is broken");
            }
            return std::make_unique<MemoryReader>(good);
        },
        limits, {}, name_of);
    std::vector<size_t> applied;
    std::string e = error_of([&] {
        scan_in_order(scanner, 0, 3, 3, [&](size_t i, LayerScan&) { applied.push_back(i); });
    });
    EXPECT_EQ(e, "layer 2 is broken");
    EXPECT_EQ(applied, std::vector<size_t>{0});
}

// A layer that fails while another's read waits on the source (a download): the source is
// told to stop before the readers are joined, and the failing layer's error stands.
TEST(ScanInOrder, AFailureStopsReadsWaitingOnTheSource) {
    std::mutex mutex;
    std::condition_variable changed;
    bool stopped = false;
    bool waiting = false;
    const Limits limits{};
    LayerScanner scanner(
        [&](size_t i) -> std::unique_ptr<Reader> {
            if (i == 1) {  // waits as a download would, until told to stop (or 10 s)
                std::unique_lock lock(mutex);
                waiting = true;
                changed.notify_all();
                if (!changed.wait_for(lock, std::chrono::seconds(10), [&] { return stopped; }))
                    throw Error("layer 2 was not stopped");
                throw Error("layer 2: download stopped");
            }
            std::unique_lock lock(mutex);  // fails once the other waits
            changed.wait_for(lock, std::chrono::seconds(10), [&] { return waiting; });
            throw Error("layer 1 is broken");
        },
        limits, {}, name_of);
    int stops = 0;
    std::string e = error_of([&] {
        scan_in_order(
            scanner, 0, 2, 2, [](size_t, LayerScan&) {},
            [&] {
                ++stops;
                std::lock_guard lock(mutex);
                stopped = true;
                changed.notify_all();
            });
    });
    EXPECT_EQ(e, "layer 1 is broken");
    EXPECT_EQ(stops, 1);
}

TEST(ScanInOrder, AppliesEveryLayerInOrderWhateverTheThreads) {
    std::vector<std::string> tars;
    for (int i = 0; i < 7; ++i)
        tars.push_back(LayerBuilder().file("f" + std::to_string(i), "x").tar());
    const Limits limits{};
    LayerScanner scanner([&](size_t i) { return std::make_unique<MemoryReader>(tars[i]); }, limits,
                         {}, name_of);
    for (unsigned threads : {1u, 2u, 7u}) {
        std::vector<std::string> applied;
        scan_in_order(scanner, 2, 5, threads, [&](size_t i, LayerScan& scan) {
            applied.push_back(std::to_string(i) + ":" + scan.pending.at(0).path);
            scanner.release(scan);
        });
        EXPECT_EQ(applied, (std::vector<std::string>{"2:f2", "3:f3", "4:f4", "5:f5", "6:f6"}))
            << threads << " threads";
    }
}

// Without a thread count, one reader more than the cores: a reader that waits (here, until
// the others have started) leaves every core a layer to read.
TEST(ScanInOrder, ByDefaultReadsOneLayerMoreThanTheCores) {
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    const std::string tar = LayerBuilder().file("f", "x").tar();
    std::mutex mutex;
    std::condition_variable changed;
    size_t reading = 0;
    size_t most = 0;
    bool go = false;
    const Limits limits{};
    LayerScanner scanner(
        [&](size_t) -> std::unique_ptr<Reader> {
            std::unique_lock lock(mutex);
            most = std::max(most, ++reading);
            changed.notify_all();
            changed.wait_for(lock, std::chrono::seconds(10), [&] { return go; });
            --reading;
            return std::make_unique<MemoryReader>(tar);
        },
        limits, {}, name_of);
    std::thread releaser([&] {
        std::unique_lock lock(mutex);
        changed.wait_for(lock, std::chrono::seconds(10), [&] { return most > cores; });
        // A little longer, for a reader beyond the rule to show up.
        changed.wait_for(lock, std::chrono::milliseconds(100), [] { return false; });
        go = true;
        changed.notify_all();
    });
    scan_in_order(scanner, 0, cores + 3, 0,
                  [&](size_t, LayerScan& scan) { scanner.release(scan); });
    releaser.join();
    EXPECT_EQ(most, cores + 1);
}

}  // namespace
}  // namespace d2a
