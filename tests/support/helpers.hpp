// Small helpers the unit tests share: a temporary directory, a writer into a string, the
// message of the Error a call throws, and text of a small vocabulary.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <iterator>
#include <random>
#include <stdexcept>
#include <string>

#include "util/error.hpp"
#include "util/stream.hpp"

namespace d2a::testing {

// A fresh directory under /tmp, removed with everything in it when this goes.
class TempDir {
  public:
    TempDir() {
        char tmpl[] = "/tmp/d2a-test.XXXXXX";
        if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir() { std::filesystem::remove_all(path_); }
    [[nodiscard]] const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
};

class StringWriter final : public Writer {
  public:
    void write(const void* buf, size_t n) override {
        data.append(static_cast<const char*>(buf), n);
    }
    std::string data;
};

// What fn throws as an Error, or "no error".
inline std::string error_of(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const Error& e) {
        return e.what();
    }
    return "no error";
}

// Lines of words drawn at random from a vocabulary of 32, like bench image C's text: the
// text whose 4-byte hash chains fill with copies of one word (see DeflateEncoder).
inline std::string vocabulary_text(size_t n, unsigned seed) {
    static const char* const kWords[] = {
        "the",    "quick",   "brown",   "fox",     "jumps",    "over",     "lazy",   "dog",
        "config", "value",   "server",  "client",  "request",  "response", "error",  "warning",
        "info",   "debug",   "library", "module",  "function", "return",   "import", "export",
        "string", "integer", "float",   "boolean", "array",    "object",   "null",   "true"};
    std::mt19937 rng(seed);
    std::string s;
    while (s.size() < n) {
        const unsigned words = 3 + rng() % 12;
        for (unsigned i = 0; i < words; ++i) {
            s += kWords[rng() % std::size(kWords)];
            s += i + 1 < words ? ' ' : '\n';
        }
    }
    s.resize(n);
    return s;
}

}  // namespace d2a::testing
