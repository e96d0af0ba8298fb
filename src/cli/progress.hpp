// How downloads show on stderr: a line per finished layer, or a live bar per layer when
// stderr is a terminal.
#pragma once

#include <docker2aci/docker2aci.hpp>
#include <memory>
#include <mutex>
#include <ostream>

namespace docker2aci::cli {

std::unique_ptr<DownloadProgress> make_progress(std::ostream& err, std::mutex& err_mutex,
                                                bool terminal);

std::string human_size(uint64_t bytes);

}  // namespace docker2aci::cli
