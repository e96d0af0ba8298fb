#include "cli/interrupts.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cstdint>
#include <system_error>

namespace docker2aci::cli {

InterruptWatcher::InterruptWatcher(std::function<void(int)> report) : report_(std::move(report)) {
    sigemptyset(&watched_);
    for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&watched_, s);
    // Blocked here, before any worker starts, so that every thread inherits the mask and
    // the signals queue for the signalfd below.
    pthread_sigmask(SIG_BLOCK, &watched_, &previous_);
    signals_ = signalfd(-1, &watched_, SFD_CLOEXEC);
    stop_ = eventfd(0, EFD_CLOEXEC);
    if (signals_ >= 0 && stop_ >= 0) {
        try {
            thread_ = std::thread([this] { watch(); });
            return;
        } catch (const std::system_error&) {  // no thread to spare: signals act as by default
        }
    }
    pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
    close_fds();
}

void InterruptWatcher::close_fds() {
    for (int* fd : {&signals_, &stop_}) {
        if (*fd >= 0) ::close(*fd);
        *fd = -1;
    }
}

// Sleeps until a watched signal arrives (then reports and exits) or the run ends (stop_).
void InterruptWatcher::watch() {
    pollfd fds[2] = {{signals_, POLLIN, 0}, {stop_, POLLIN, 0}};
    for (;;) {
        if (::poll(fds, 2, -1) < 0) continue;  // EINTR
        if (fds[1].revents) return;
        signalfd_siginfo info{};
        if (::read(signals_, &info, sizeof info) != static_cast<ssize_t>(sizeof info)) continue;
        const int signal = static_cast<int>(info.ssi_signo);
        report_(signal);
        _exit(128 + signal);
    }
}

InterruptWatcher::~InterruptWatcher() {
    if (!thread_.joinable()) {
        close_fds();
        return;
    }
    const uint64_t one = 1;
    (void)!::write(stop_, &one, sizeof one);
    thread_.join();
    close_fds();
    // A signal that arrived after the watcher stopped is delivered now, as by default.
    pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
}

}  // namespace docker2aci::cli
