// Threads where the system may refuse them (RLIMIT_NPROC, a cgroup's pids.max): a refusal
// means fewer threads, never a crash, and never a wait on a thread that did not start.
#pragma once

#include <cstddef>
#include <functional>
#include <thread>
#include <vector>

namespace d2a {

// Starts up to `count` threads running body(i). Stops at the first one the system refuses
// and returns those that started (possibly none): the caller does the rest of the work.
std::vector<std::thread> start_threads(size_t count, const std::function<void(size_t)>& body);

// Runs `body` on at most `count` threads, the calling thread being one of them, and waits
// for all. Each must take its work from shared state, so that fewer threads only means
// slower. The first exception any of them throws is rethrown as it was (a bad_alloc stays
// one) once all have finished.
void run_parallel(size_t count, const std::function<void()>& body);

}  // namespace d2a
