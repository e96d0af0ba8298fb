// How downloads show on stderr: a line per finished layer, or a live bar per layer when
// stderr is a terminal.
#pragma once

#include <memory>
#include <mutex>
#include <ostream>

#include "source/registry_source.hpp"

namespace d2a::cli {

std::unique_ptr<DownloadObserver> make_progress(std::ostream& err, std::mutex& err_mutex, bool terminal);

std::string human_size(uint64_t bytes);

}  // namespace d2a::cli
