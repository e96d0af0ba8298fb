#pragma once

#include <string>
#include <string_view>

namespace d2a {

// Normalises a tar entry name to a root-relative path: "./a//b/" -> "a/b", "/a" -> "a",
// "." -> "". A ".." component is an error (the name would leave the root).
std::string normalize_entry_path(std::string_view raw);

// "a/b/c" -> "a/b"; "a" -> "".
std::string_view parent_path(std::string_view path);
// "a/b/c" -> "c".
std::string_view base_name(std::string_view path);

}  // namespace d2a
