#include "util/error.hpp"

#include <cerrno>
#include <cstring>

namespace d2a {

std::string Error::one_line(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    auto escape = [&](unsigned char b) {
        static const char* hex = "0123456789abcdef";
        out += "\\x";
        out += hex[b >> 4];
        out += hex[b & 15];
    };
    for (size_t i = 0; i < s.size(); ++i) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c == '\n' || c == '\r') {
            out += ' ';
        } else if (c < 0x20 || c == 0x7f) {
            escape(c);
        } else if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
                   static_cast<unsigned char>(s[i + 1]) <= 0x9f) {
            escape(c);  // U+0080..U+009F, the C1 controls (CSI among them) in UTF-8
            escape(static_cast<unsigned char>(s[++i]));
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

void throw_errno(const std::string& what) {
    int err = errno;
    throw Error(what + ": " + std::strerror(err));
}

}  // namespace d2a
