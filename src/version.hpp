#pragma once

namespace d2a {
inline constexpr const char* kVersion = "v0.18.0-dev";
inline constexpr const char* kAppcVersion = "0.8.11";
}  // namespace d2a
