#include "util/threads.hpp"

#include <exception>
#include <mutex>
#include <system_error>

namespace d2a {

std::vector<std::thread> start_threads(size_t count, const std::function<void(size_t)>& body) {
    std::vector<std::thread> started;
    started.reserve(count);
    for (size_t i = 0; i < count; ++i) {
        try {
            started.emplace_back(body, i);
        } catch (const std::system_error&) {  // refused (EAGAIN): run with those we have
            break;
        }
    }
    return started;
}

void run_parallel(size_t count, const std::function<void()>& body) {
    std::mutex mutex;
    std::exception_ptr first_error;
    auto guarded = [&] {
        try {
            body();
        } catch (...) {  // kept for the caller: nothing may escape a thread
            std::lock_guard lock(mutex);
            if (!first_error) first_error = std::current_exception();
        }
    };
    std::vector<std::thread> helpers =
        start_threads(count > 1 ? count - 1 : 0, [&](size_t) { guarded(); });
    guarded();
    for (auto& t : helpers) t.join();
    if (first_error) std::rethrow_exception(first_error);
}

}  // namespace d2a
