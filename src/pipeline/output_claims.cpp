#include "pipeline/output_claims.hpp"

#include "util/error.hpp"

namespace d2a {

void OutputClaims::wait_for_turn(std::unique_lock<std::mutex>& lock, size_t index) {
    turn_.wait(lock, [&] { return next_ >= index; });
}

void OutputClaims::pass_turn(size_t index) {
    if (done_.size() <= index) done_.resize(index + 1, false);
    done_[index] = true;
    while (next_ < done_.size() && done_[next_]) ++next_;
    turn_.notify_all();
}

void OutputClaims::claim(size_t index, const std::string& reference,
                         const std::vector<std::filesystem::path>& paths) {
    std::unique_lock lock(mutex_);
    wait_for_turn(lock, index);
    // Passed on however this ends: a refused claim must not hold up the images after it.
    struct Pass {
        OutputClaims& claims;
        size_t index;
        ~Pass() { claims.pass_turn(index); }
    } pass{*this, index};
    for (const auto& p : paths) {
        auto it = owner_.find(p.lexically_normal().string());
        if (it != owner_.end() && it->second != reference) {
            throw Error(p.string() + " is also the output of " + it->second +
                        " in this run; convert one of them into another directory");
        }
    }
    for (const auto& p : paths) owner_.emplace(p.lexically_normal().string(), reference);
}

void OutputClaims::give_up(size_t index) {
    std::lock_guard lock(mutex_);
    if (index < done_.size() && done_[index]) return;
    pass_turn(index);
}

}  // namespace d2a
