// The command line: the only code that knows argv, stdout, stderr and exit codes. It is
// written against the library's public C++ API (<docker2aci/docker2aci.hpp>) alone and
// links the shared library, as any other program would.
#pragma once

#include <iosfwd>

namespace docker2aci::cli {

// Runs the command; returns the exit status (0 ok, 1 conversion error, 2 usage error).
int run(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace docker2aci::cli
