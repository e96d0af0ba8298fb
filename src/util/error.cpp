#include "util/error.hpp"

#include <cerrno>
#include <cstring>

namespace d2a {

void throw_errno(const std::string& what) {
    int err = errno;
    throw Error(what + ": " + std::strerror(err));
}

}  // namespace d2a
