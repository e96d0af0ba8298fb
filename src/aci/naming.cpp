#include "aci/naming.hpp"

#include "util/error.hpp"

namespace d2a {

namespace {

bool is_alnum_lower(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

std::string sanitize(std::string_view s, std::string_view separators, char replacement) {
    std::string out;
    for (char c : s) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        bool sep = separators.find(c) != std::string_view::npos;
        if (!is_alnum_lower(c) && !sep) {
            c = replacement;
            sep = true;
        }
        if (sep) {
            // No leading separator and no two in a row (the pattern forbids both).
            if (out.empty() || !is_alnum_lower(out.back())) continue;
        }
        out += c;
    }
    while (!out.empty() && !is_alnum_lower(out.back())) out.pop_back();
    return out;
}

}  // namespace

// What appc's SanitizeACIdentifier does: anything else becomes '_' ("127.0.0.1:5000/a" is
// "127.0.0.1_5000/a", as rkt and the Go original name it).
std::string sanitize_ac_identifier(std::string_view s) {
    return sanitize(s, "-._~/", '_');
}

std::string sanitize_ac_name(std::string_view s) {
    return sanitize(s, "-", '-');
}

std::string aci_file_name(std::string_view name, std::string_view version, std::string_view os,
                          std::string_view arch, bool keep_slashes) {
    std::string out;
    for (std::string_view part : {name, version, os, arch}) {
        if (part.empty()) continue;
        if (!out.empty()) out += '-';
        for (char c : part) {
            // Parts come from images: a NUL would cut the name, '/' or ".." leave the
            // directory, control characters hide it. Only what AC identifiers and Docker
            // tags allow gets through ('/' of a name becomes '-').
            bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '~' || c == '-' ||
                        c == '/';
            if (!safe) throw Error("cannot make a file name of \"" + std::string(part) + "\"");
            out += (c == '/' && !keep_slashes) ? '-' : c;
        }
    }
    if (out.empty() || out[0] == '.' || out[0] == '-') out.insert(0, "aci");
    return out + ".aci";
}

}  // namespace d2a
