// Slash-separated paths: tar entry names, link targets, repository names, volume paths.
#pragma once

#include <string>
#include <string_view>
#include <type_traits>

namespace d2a {

// Calls visit(component) for each '/'-separated component of `path`, in order, empty ones
// included ("a//b" gives "a", "", "b"; "" gives one empty component). A visitor returning
// bool stops the walk by returning false; then this returns false.
template <typename Visit>
bool for_each_component(std::string_view path, Visit&& visit) {
    size_t i = 0;
    for (;;) {
        size_t j = path.find('/', i);
        if (j == std::string_view::npos) j = path.size();
        std::string_view part = path.substr(i, j - i);
        if constexpr (std::is_same_v<std::invoke_result_t<Visit&, std::string_view>, bool>) {
            if (!visit(part)) return false;
        } else {
            visit(part);
        }
        if (j == path.size()) return true;
        i = j + 1;
    }
}

// Normalises a tar entry name to a root-relative path: "./a//b/" -> "a/b", "/a" -> "a",
// "." -> "". A ".." component is an error (the name would leave the root).
std::string normalize_entry_path(std::string_view raw);

// "a/b/c" -> "a/b"; "a" -> "".
std::string_view parent_path(std::string_view path);
// "a/b/c" -> "c".
std::string_view base_name(std::string_view path);

}  // namespace d2a
