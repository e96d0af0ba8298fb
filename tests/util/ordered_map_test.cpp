#include "util/ordered_map.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <stdexcept>
#include <string>

namespace d2a {
namespace {

using namespace std::chrono_literals;

// Tasks that finish in an order other than their submission's (later ones sleep less)
// still come back in submission order, with each worker's own index.
TEST(OrderedMap, ResultsComeBackInSubmissionOrder) {
    for (size_t threads : {0, 1, 2, 4}) {
        OrderedMap<int> map(threads);
        std::atomic<int> max_worker{-1};
        std::mt19937 rng(7);
        int taken = 0;
        for (int i = 0; i < 64; ++i) {
            const auto delay = std::chrono::microseconds(rng() % 400);
            map.submit([i, delay, &max_worker](size_t worker, const std::atomic<bool>&) {
                std::this_thread::sleep_for(delay);
                int w = static_cast<int>(worker);
                int seen = max_worker.load();
                while (w > seen && !max_worker.compare_exchange_weak(seen, w)) {
                }
                return i * 10;
            });
            if (map.pending() >= 6) {
                EXPECT_EQ(map.take(), 10 * taken++);
            }
        }
        while (map.pending() > 0) EXPECT_EQ(map.take(), 10 * taken++);
        EXPECT_EQ(taken, 64);
        EXPECT_EQ(map.workers(), threads);
        EXPECT_LT(max_worker.load(), static_cast<int>(std::max<size_t>(threads, 1)));
    }
}

// The first failure in submission order is what the consumer sees, even when a later task
// failed first; the results before it are still delivered.
TEST(OrderedMap, FirstErrorInOrderWins) {
    OrderedMap<int> map(3);
    map.submit([](size_t, const std::atomic<bool>&) { return 1; });
    map.submit([](size_t, const std::atomic<bool>&) -> int {
        std::this_thread::sleep_for(20ms);
        throw std::runtime_error("second");
    });
    map.submit([](size_t, const std::atomic<bool>&) -> int { throw std::out_of_range("third"); });
    EXPECT_EQ(map.take(), 1);
    try {
        map.take();
        FAIL() << "no error";
    } catch (const std::runtime_error& e) {
        EXPECT_EQ(std::string(e.what()), "second");
    }
    // The error keeps its type.
    EXPECT_THROW(map.take(), std::out_of_range);
}

// With no worker, a task runs on the consumer's thread when its result is taken, not
// before: a failure surfaces at its turn and nothing runs ahead.
TEST(OrderedMap, WithoutWorkersTasksRunWhenTaken) {
    OrderedMap<int> map(0);
    int ran = 0;
    const auto caller = std::this_thread::get_id();
    for (int i = 0; i < 3; ++i) {
        map.submit([&, i](size_t worker, const std::atomic<bool>&) {
            EXPECT_EQ(worker, 0u);
            EXPECT_EQ(std::this_thread::get_id(), caller);
            ++ran;
            return i;
        });
    }
    EXPECT_EQ(ran, 0);
    EXPECT_EQ(map.take(), 0);
    EXPECT_EQ(ran, 1);
    EXPECT_EQ(map.take(), 1);
    EXPECT_EQ(ran, 2);
}

// Results nobody took go to `discard` once the map is destroyed, whether finished before
// or while it was cancelled; a task that was never started gives nothing to discard.
TEST(OrderedMap, UntakenResultsAreDiscarded) {
    std::vector<int> discarded;
    std::atomic<int> started{0};
    {
        OrderedMap<int> map(2, [&](int& v) { discarded.push_back(v); });
        for (int i = 0; i < 2; ++i) {
            map.submit([i, &started](size_t, const std::atomic<bool>&) {
                ++started;
                return i;
            });
        }
        // Long tasks that end when cancelled, so that the queue behind them never starts.
        for (int i = 2; i < 4; ++i) {
            map.submit([i, &started](size_t, const std::atomic<bool>& cancelled) {
                ++started;
                while (!cancelled) std::this_thread::sleep_for(1ms);
                return i;
            });
        }
        for (int i = 4; i < 10; ++i) {
            map.submit([i, &started](size_t, const std::atomic<bool>&) {
                ++started;
                return i;
            });
        }
        EXPECT_EQ(map.take(), 0);
        while (started < 4) std::this_thread::sleep_for(1ms);
    }
    std::sort(discarded.begin(), discarded.end());
    EXPECT_EQ(discarded, (std::vector<int>{1, 2, 3}));
    EXPECT_EQ(started.load(), 4);
}

// After cancel(), a result that was never computed is an error, not a wait forever.
TEST(OrderedMap, TakeAfterCancelOfAnUnstartedTaskFails) {
    OrderedMap<int> map(1);
    std::atomic<bool> started{false};
    map.submit([&](size_t, const std::atomic<bool>& cancelled) {
        started = true;
        while (!cancelled) std::this_thread::sleep_for(1ms);
        return 1;
    });
    map.submit([](size_t, const std::atomic<bool>&) { return 2; });
    // Cancelled once the first task runs (a fixed sleep lost that race on a busy machine).
    while (!started) std::this_thread::sleep_for(1ms);
    map.cancel();
    EXPECT_EQ(map.take(), 1);  // it was running: it finishes
    EXPECT_THROW(map.take(), Error);

    OrderedMap<int> inline_map(0);
    inline_map.submit([](size_t, const std::atomic<bool>&) { return 3; });
    inline_map.cancel();
    EXPECT_THROW(inline_map.take(), Error);
}

// Tasks' captures are freed when they have run, not when their results are taken: the
// compressor's input blocks do not outlive their encoding.
TEST(OrderedMap, ATaskIsReleasedOnceItHasRun) {
    OrderedMap<int> map(1);
    auto payload = std::make_shared<int>(5);
    std::weak_ptr<int> watch = payload;
    map.submit(
        [payload = std::move(payload)](size_t, const std::atomic<bool>&) { return *payload; });
    for (int i = 0; i < 2000 && !watch.expired(); ++i) std::this_thread::sleep_for(1ms);
    EXPECT_TRUE(watch.expired());
    EXPECT_EQ(map.take(), 5);
}

}  // namespace
}  // namespace d2a
