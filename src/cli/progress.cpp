#include "cli/progress.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

namespace docker2aci::cli {

std::string human_size(uint64_t n) {
    char buf[32];
    if (n >= 1000000) {
        std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(n) / 1e6);
    } else {
        std::snprintf(buf, sizeof buf, "%.1f kB", static_cast<double>(n) / 1e3);
    }
    return buf;
}

namespace {

using Blob = DownloadProgress::Blob;

std::string short_digest(const Blob& b) {
    return b.digest.substr(0, 19);
}

class LineProgress final : public DownloadProgress {
  public:
    LineProgress(std::ostream& err, std::mutex& mutex) : err_(err), mutex_(mutex) {}
    // Shared by concurrent pulls: keeps no per-image state.
    void started(const std::vector<Blob>&) override {}
    void progress(size_t, const Blob&, uint64_t) override {}
    void finished(size_t, const Blob& blob, uint64_t bytes, bool cached) override {
        std::lock_guard lock(mutex_);
        err_ << (cached ? "Cached " : "Downloaded ") << short_digest(blob) << " ("
             << human_size(bytes) << ")\n"
             << std::flush;
    }

  private:
    std::ostream& err_;
    std::mutex& mutex_;
};

// One line per layer, redrawn in place at most ten times a second (one pull at a time).
class TerminalProgress final : public DownloadProgress {
  public:
    TerminalProgress(std::ostream& err, std::mutex& mutex) : err_(err), mutex_(mutex) {}
    void started(const std::vector<Blob>& blobs) override {
        std::lock_guard lock(mutex_);
        blobs_ = blobs;
        done_.assign(blobs.size(), 0);
        state_.assign(blobs.size(), ' ');
        drawn_ = false;
        draw(true);
    }
    void progress(size_t i, const Blob&, uint64_t bytes) override {
        std::lock_guard lock(mutex_);
        if (i >= done_.size()) return;
        done_[i] = bytes;
        draw(false);
    }
    void finished(size_t i, const Blob&, uint64_t bytes, bool cached) override {
        std::lock_guard lock(mutex_);
        if (i >= done_.size()) return;
        done_[i] = bytes;
        state_[i] = cached ? 'c' : 'd';
        bool all = std::all_of(state_.begin(), state_.end(), [](char c) { return c != ' '; });
        draw(true);
        if (all) err_ << std::flush;
    }

  private:
    void draw(bool force) {
        auto now = std::chrono::steady_clock::now();
        if (!force && now - last_ < std::chrono::milliseconds(100)) return;
        last_ = now;
        if (drawn_) err_ << "\x1b[" << blobs_.size() << "A";
        for (size_t i = 0; i < blobs_.size(); ++i) {
            uint64_t total = blobs_[i].size;
            int width = 30;
            int filled =
                total ? static_cast<int>(width * std::min<uint64_t>(done_[i], total) / total) : 0;
            if (state_[i] != ' ') filled = width;
            err_ << "\x1b[2K" << short_digest(blobs_[i]) << " [" << std::string(filled, '#')
                 << std::string(width - filled, '.') << "] " << human_size(done_[i]);
            if (total) err_ << " / " << human_size(total);
            if (state_[i] == 'c') err_ << " (cached)";
            if (state_[i] == 'd') err_ << " done";
            err_ << "\n";
        }
        drawn_ = true;
        err_ << std::flush;
    }

    std::ostream& err_;
    std::mutex& mutex_;
    std::vector<Blob> blobs_;
    std::vector<uint64_t> done_;
    std::vector<char> state_;
    bool drawn_ = false;
    std::chrono::steady_clock::time_point last_{};
};

}  // namespace

std::unique_ptr<DownloadProgress> make_progress(std::ostream& err, std::mutex& err_mutex,
                                                bool terminal) {
    if (terminal) return std::make_unique<TerminalProgress>(err, err_mutex);
    return std::make_unique<LineProgress>(err, err_mutex);
}

}  // namespace docker2aci::cli
