// SIGINT, SIGTERM and SIGHUP during a run: the images in progress are reported as
// interrupted (a JSON line and an error line each) before the process exits 128+signal,
// so that a log never ends without a word about them. Nothing else needs cleaning up:
// ACIs and signatures are unnamed until complete, and a partial download in the cache is
// resumed by the next run.
#pragma once

#include <signal.h>

#include <functional>
#include <thread>

namespace docker2aci::cli {

class InterruptWatcher {
  public:
    // `report(signal)` runs on the watcher's thread; the process then exits 128+signal.
    explicit InterruptWatcher(std::function<void(int signal)> report);
    InterruptWatcher(const InterruptWatcher&) = delete;
    InterruptWatcher& operator=(const InterruptWatcher&) = delete;
    // Stops watching and restores the signal mask.
    ~InterruptWatcher();

  private:
    void watch();
    void close_fds();
    std::function<void(int)> report_;
    sigset_t watched_{};
    sigset_t previous_{};
    int signals_ = -1;  // signalfd of the watched signals
    int stop_ = -1;     // eventfd: written when the run ends
    std::thread thread_;
};

}  // namespace docker2aci::cli
