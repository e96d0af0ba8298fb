// The one error type of the project. Every failure that reaches the user is an Error whose
// message is a single line naming the problem and where it is; the CLI prints it and exits 1.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace d2a {

class Error : public std::runtime_error {
  public:
    explicit Error(const std::string& message) : std::runtime_error(one_line(message)) {}

    // Returns a copy whose message is "context: original message".
    [[nodiscard]] Error within(std::string_view context) const {
        return Error(std::string(context) + ": " + what());
    }

    // Messages quote tar names, config values and registry text: line breaks become
    // spaces and other control characters (C0, DEL, C1) "\xNN", so that no input can
    // split the line or send escape sequences to a terminal.
    static std::string one_line(const std::string& s);
};

// Runs fn; an Error escaping it gets `context` prepended.
template <typename Fn>
decltype(auto) with_context(std::string_view context, Fn&& fn) {
    try {
        return fn();
    } catch (const Error& e) {
        throw e.within(context);
    }
}

// Error built from errno: "what: strerror(errno)".
[[noreturn]] void throw_errno(const std::string& what);

}  // namespace d2a
