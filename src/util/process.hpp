// Running a helper program (no shell): a credential helper, gpgconf.
#pragma once

#include <string>
#include <vector>

namespace d2a {

struct ProcessResult {
    bool ran = false;  // false: it could not be started (not installed, say)
    int exit_status = -1;
    std::string output;  // standard output, at most max_output bytes
};

// Runs argv[0] (looked up in PATH) with `input` on its standard input and its standard
// error discarded, and waits for it. A program that exits without reading its input is
// reported by its status, never by SIGPIPE.
ProcessResult run_process(const std::vector<std::string>& argv, const std::string& input = "",
                          size_t max_output = 1 << 20);

}  // namespace d2a
