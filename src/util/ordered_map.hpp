// A bounded parallel map consumed in order: tasks are submitted one after another, run on
// a pool of threads, and their results taken back in submission order; the first error in
// that order is the one the consumer sees. The gzip compressor (blocks in, deflated blocks
// out) and the layer scan (layer numbers in, scans out) are both this pattern.
//
// The bound is the caller's: it takes a result before submitting more once pending()
// reaches its window, so that no more than that many inputs and results are held at once.
// When the system starts no thread (RLIMIT_NPROC, a cgroup's pids.max), or the map is made
// with none, each task runs on the calling thread when its result is taken: the same
// results, one at a time.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "util/error.hpp"
#include "util/threads.hpp"

namespace d2a {

template <class T>
class OrderedMap {
  public:
    // A task gets the index of the worker running it (below the pool's size; 0 on the
    // calling thread), so that it can use that worker's own state (an encoder), and the
    // map's cancel flag, which a long task should poll.
    using Task = std::function<T(size_t worker, const std::atomic<bool>& cancelled)>;

    // Starts up to `threads` workers (0: none). `discard` is given every result nobody
    // took when the map is destroyed (a scan's memory budget goes back through it).
    explicit OrderedMap(size_t threads, std::function<void(T&)> discard = {})
        : discard_(std::move(discard)) {
        if (threads > 0) workers_ = start_threads(threads, [this](size_t i) { work(i); });
    }

    OrderedMap(const OrderedMap&) = delete;
    OrderedMap& operator=(const OrderedMap&) = delete;

    // Cancels what is queued or running, joins the workers, and discards what was not
    // taken. A task already running finishes (or notices the flag) first.
    ~OrderedMap() {
        cancel();
        for (auto& t : workers_) t.join();
        if (!discard_) return;
        for (auto& slot : order_) {
            if (slot->value) discard_(*slot->value);
        }
    }

    // How many workers run tasks (0: every task runs on the calling thread, in take()).
    size_t workers() const { return workers_.size(); }

    // Submitted and not yet taken.
    size_t pending() const { return order_.size(); }

    void submit(Task task) {
        auto slot = std::make_shared<Slot>();
        slot->task = std::move(task);
        order_.push_back(slot);
        if (workers_.empty()) return;  // run by take()
        {
            std::lock_guard lock(mutex_);
            queue_.push_back(std::move(slot));
        }
        changed_.notify_one();
    }

    // The result of the oldest task not yet taken, once it is done; its exception is
    // rethrown here as it was thrown. Requires pending() > 0. After cancel(), a task that
    // never started gives an Error.
    T take() {
        std::shared_ptr<Slot> slot = std::move(order_.front());
        order_.pop_front();
        if (workers_.empty()) {
            if (cancelled_) throw Error("cancelled");
            run(*slot, 0);
        } else {
            std::unique_lock lock(mutex_);
            changed_.wait(lock, [&] { return slot->done || (cancelled_ && !slot->started); });
            if (!slot->done) throw Error("cancelled");
        }
        if (slot->error) std::rethrow_exception(slot->error);
        T value = std::move(*slot->value);
        slot->value.reset();
        return value;
    }

    // Tasks not started are not run; running ones see the flag.
    void cancel() {
        {
            std::lock_guard lock(mutex_);
            cancelled_ = true;
            queue_.clear();
        }
        changed_.notify_all();
    }

  private:
    struct Slot {
        Task task;
        std::optional<T> value;
        std::exception_ptr error;
        bool started = false;  // under mutex_ when workers run it
        bool done = false;     // likewise
    };

    void run(Slot& slot, size_t worker) {
        try {
            slot.value.emplace(slot.task(worker, cancelled_));
        } catch (...) {  // nothing may escape a worker: take() rethrows it, in order
            slot.error = std::current_exception();
        }
        slot.task = nullptr;  // what it captured (a block's bytes) is freed now
    }

    void work(size_t worker) {
        for (;;) {
            std::shared_ptr<Slot> slot;
            {
                std::unique_lock lock(mutex_);
                changed_.wait(lock, [&] { return cancelled_ || !queue_.empty(); });
                if (cancelled_) return;
                slot = std::move(queue_.front());
                queue_.pop_front();
                slot->started = true;
            }
            run(*slot, worker);
            {
                std::lock_guard lock(mutex_);
                slot->done = true;
                // Let go of it before the consumer can see it done: the consumer then holds
                // the last reference, and what the task left (its result, its exception)
                // is freed on the consumer's thread, after it used it.
                slot.reset();
            }
            changed_.notify_all();
        }
    }

    std::function<void(T&)> discard_;
    std::deque<std::shared_ptr<Slot>> order_;  // the consumer's alone
    std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<std::shared_ptr<Slot>> queue_;  // not yet started
    std::atomic<bool> cancelled_{false};
    std::vector<std::thread> workers_;  // last: started once everything above exists
};

}  // namespace d2a
