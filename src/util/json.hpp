// JSON from untrusted sources. nlohmann's parser recurses per nesting level, so a
// document nested a million deep would overflow the stack: the depth is checked first.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace d2a {

constexpr int kMaxJsonDepth = 100;

// Parses `text`; errors (syntax, nesting deeper than kMaxJsonDepth) name `what`.
nlohmann::json parse_untrusted_json(std::string_view text, const std::string& what);

// obj[key] when obj is an object and that member is a string; "" otherwise.
std::string json_string(const nlohmann::json& obj, const char* key);

}  // namespace d2a
