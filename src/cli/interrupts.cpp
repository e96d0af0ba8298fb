#include "cli/interrupts.hpp"

#include <unistd.h>

#include <ctime>
#include <system_error>

namespace d2a::cli {

InterruptWatcher::InterruptWatcher(std::function<void(int)> report) : report_(std::move(report)) {
    sigemptyset(&watched_);
    for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&watched_, s);
    // Blocked here, before any worker starts, so that every thread inherits the mask and
    // only the watcher takes these signals.
    pthread_sigmask(SIG_BLOCK, &watched_, &previous_);
    try {
        thread_ = std::thread([this] {
            const timespec tick{0, 200'000'000};
            while (!done_) {
                int signal = sigtimedwait(&watched_, nullptr, &tick);
                if (signal <= 0) continue;
                report_(signal);
                _exit(128 + signal);
            }
        });
    } catch (const std::system_error&) {  // no thread to spare: signals act as by default
        pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
    }
}

InterruptWatcher::~InterruptWatcher() {
    if (!thread_.joinable()) return;
    done_ = true;
    thread_.join();
    // A signal that arrived after the watcher stopped is delivered now, as by default.
    pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
}

}  // namespace d2a::cli
