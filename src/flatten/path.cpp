#include "flatten/path.hpp"

#include "util/error.hpp"

namespace d2a {

std::string normalize_entry_path(std::string_view raw) {
    std::string out;
    size_t i = 0;
    while (i <= raw.size()) {
        size_t j = raw.find('/', i);
        if (j == std::string_view::npos) j = raw.size();
        std::string_view part = raw.substr(i, j - i);
        if (part == "..") {
            throw Error("entry \"" + std::string(raw) + "\" leaves the root (\"..\")");
        }
        if (!part.empty() && part != ".") {
            if (!out.empty()) out += '/';
            out.append(part);
        }
        i = j + 1;
    }
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
