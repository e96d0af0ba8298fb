#include "pipeline/batch.hpp"

#include <atomic>
#include <new>

#include "publish/discovery_site.hpp"
#include "util/error.hpp"
#include "util/threads.hpp"

namespace d2a {

uint64_t shard_of(const std::string& reference, uint64_t n) {
    uint64_t h = 1469598103934665603ULL;  // FNV-1a: stable across runs and machines
    for (unsigned char c : reference) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    return h % n;
}

std::vector<std::string> select_shard(const std::vector<std::string>& references, uint64_t k,
                                      uint64_t n) {
    std::vector<std::string> mine;
    for (const auto& r : references) {
        if (shard_of(r, n) == k) mine.push_back(r);
    }
    return mine;
}

Batch::Batch(std::vector<std::string> references, BatchOptions options)
    : references_(std::move(references)), options_(std::move(options)) {}

BatchOutcome Batch::convert_one(size_t index) {
    BatchOutcome o;
    o.index = index;
    o.reference = references_[index];
    const auto start = std::chrono::steady_clock::now();
    try {
        o.image = convert_image(o.reference, options_.pipeline, &claims_, index);
    } catch (const Error& e) {
        o.error = e.what();
    } catch (const std::bad_alloc&) {
        o.error = "out of memory";
    } catch (const std::exception& e) {  // a bug: reported for this image, the batch goes on
        o.error = std::string("internal: ") + e.what();
    }
    if (!o.ok()) o.image.reset();
    o.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    return o;
}

bool Batch::run(const OnOutcome& on_outcome) {
    std::atomic<size_t> next{0};
    std::atomic<bool> all_ok{true};
    auto worker = [&] {
        for (;;) {
            const size_t i = next++;
            if (i >= references_.size()) return;
            {
                std::lock_guard lock(report_mutex_);
                in_progress_.insert(i);
            }
            BatchOutcome o = convert_one(i);
            if (!o.ok()) all_ok = false;
            std::lock_guard lock(report_mutex_);
            if (on_outcome) on_outcome(o);
            in_progress_.erase(i);
        }
    };
    run_parallel(std::min<size_t>(static_cast<size_t>(std::max(1, options_.jobs)),
                                  std::max<size_t>(references_.size(), 1)),
                 worker);
    const ConvertOptions& convert = options_.pipeline.convert;
    if (convert.site) {
        // After every image, so that the list holds them all (and those of earlier runs).
        with_context("discovery pages", [&] {
            write_discovery_pages(convert.output_dir, *convert.site, options_.pipeline.signer);
        });
    }
    return all_ok;
}

std::vector<BatchOutcome> Batch::stop_reporting() {
    report_mutex_.lock();  // never unlocked: the process is about to exit
    std::vector<BatchOutcome> stopped;
    for (size_t i : in_progress_) {
        BatchOutcome o;
        o.index = i;
        o.reference = references_[i];
        stopped.push_back(std::move(o));
    }
    return stopped;
}

}  // namespace d2a
