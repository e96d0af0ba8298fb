// A batch: many references converted with `jobs` at a time, file names claimed in batch
// order (two images of one file name are an error for the later one, whatever finishes
// first), a discovery site's pages written once at the end, and each image's outcome
// handed to a callback as it ends. What the CLI's --batch, --jobs and --shard do, for any
// program: nothing here prints.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "pipeline/convert_image.hpp"

namespace d2a {

// Which shard (0..n-1) a reference belongs to: a hash of the reference alone (FNV-1a), so
// a shard's images do not depend on what else the batch holds or in which order.
uint64_t shard_of(const std::string& reference, uint64_t n);
// The references of shard k of n, in batch order.
std::vector<std::string> select_shard(const std::vector<std::string>& references, uint64_t k,
                                      uint64_t n);

// How one image of a batch ended.
struct BatchOutcome {
    size_t index = 0;  // in the batch
    std::string reference;
    std::string error;                  // empty on success
    std::optional<ImageOutcome> image;  // on success
    std::chrono::milliseconds elapsed{0};
    [[nodiscard]] bool ok() const { return error.empty(); }
};

struct BatchOptions {
    PipelineOptions pipeline;
    int jobs = 1;  // images converted at once
};

class Batch {
  public:
    // Called once per image as it ends, one call at a time (never concurrently), with the
    // batch's reporting lock held: see stop_reporting().
    using OnOutcome = std::function<void(const BatchOutcome&)>;

    Batch(std::vector<std::string> references, BatchOptions options);
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;

    // Converts every reference, then (with a discovery site) writes the site's pages.
    // True when every image converted or was unchanged. Throws Error only for the pages.
    bool run(const OnOutcome& on_outcome);

    // For a process about to exit on a signal: takes the reporting lock for good (no
    // outcome is reported after this returns) and gives the images in progress.
    std::vector<BatchOutcome> stop_reporting();

  private:
    BatchOutcome convert_one(size_t index);

    const std::vector<std::string> references_;
    const BatchOptions options_;
    OutputClaims claims_;
    std::mutex report_mutex_;       // held while an outcome is reported, and for good once stopped
    std::set<size_t> in_progress_;  // guarded by report_mutex_
};

}  // namespace d2a
