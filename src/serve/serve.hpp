// `docker2aci serve`: a discovery site served over HTTP from its directory (libmicrohttpd),
// as rkt and `actool discover` find images by name. A program of the public C++ API, as
// the command line is.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

namespace docker2aci::serve {

// Runs `docker2aci serve ARGS...` (argv[0] is "serve") until SIGTERM or SIGINT; returns
// the exit status (0 after a signal, 1 when it cannot start, 2 for bad flags).
int run(int argc, const char* const* argv, std::ostream& err);

// The path of a request, as the site's files are named: segments of lower case letters,
// digits and ".-_~", none starting with "." (no "..", no hidden temporary files), at
// most 32 of them and 1024 bytes. Nothing for any other path, which is never opened.
std::optional<std::string> site_path(std::string_view url_path);

// A Range header's first range against a file of `size` bytes: [first, last]; nothing
// for a header it does not take (several ranges, units other than bytes), which is
// answered with the whole file; {size, size} when no byte of the file is in it (416).
struct ByteRange {
    uint64_t first = 0, last = 0;
};
std::optional<ByteRange> parse_range(std::string_view header, uint64_t size);

}  // namespace docker2aci::serve
