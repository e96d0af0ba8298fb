// The output files of one batch, claimed image by image in batch order, whatever order the
// images finish in: two images that map to one file are an error for the later one, never a
// silent overwrite whose winner depends on thread timing.
#pragma once

#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace d2a {

class OutputClaims {
  public:
    // Waits until every image before `index` has claimed its files or given up, then
    // claims `paths` for `reference`; throws naming the image that holds one of them.
    void claim(size_t index, const std::string& reference,
               const std::vector<std::filesystem::path>& paths);
    // Image `index` claims nothing (it failed or was skipped before naming its files).
    void give_up(size_t index);

  private:
    void wait_for_turn(std::unique_lock<std::mutex>& lock, size_t index);
    void pass_turn(size_t index);
    std::mutex mutex_;
    std::condition_variable turn_;
    size_t next_ = 0;             // the index whose turn it is
    std::vector<bool> done_;      // indexes that claimed or gave up early
    std::map<std::string, std::string> owner_;  // normalised path -> reference
};

}  // namespace d2a
