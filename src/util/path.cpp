#include "util/path.hpp"

#include "util/error.hpp"

namespace d2a {

std::string normalize_entry_path(std::string_view raw) {
    std::string out;
    for_each_component(raw, [&](std::string_view part) {
        if (part == "..") {
            throw Error("entry \"" + std::string(raw) + "\" leaves the root (\"..\")");
        }
        if (!part.empty() && part != ".") {
            if (!out.empty()) out += '/';
            out.append(part);
        }
    });
    return out;
}

std::string_view parent_path(std::string_view path) {
    size_t slash = path.rfind('/');
    return slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
}

std::string_view base_name(std::string_view path) {
    size_t slash = path.rfind('/');
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

}  // namespace d2a
