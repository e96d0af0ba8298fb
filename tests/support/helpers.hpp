// Small helpers the unit tests share: a temporary directory, a writer into a string, and
// the message of the Error a call throws.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <functional>
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

}  // namespace d2a::testing
