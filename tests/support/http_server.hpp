// An HTTP server inside the test process (cpp-httplib, for the tests only; the product's
// client is libcurl) on 127.0.0.1 and a free port, for the registry client's and the
// pull's unit tests. A server that ignores Range or sends other bytes on a restart is
// tests/e2e/py/fault_server.py's (httplib answers Range itself).
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace d2a::testing {

// Stopped and joined when this goes.
class TestServer {
  public:
    TestServer() = default;
    TestServer(const TestServer&) = delete;
    TestServer& operator=(const TestServer&) = delete;
    ~TestServer() {
        server.stop();
        if (thread_.joinable()) thread_.join();
    }
    void start() {
        port = server.bind_to_any_port("127.0.0.1");
        ASSERT_GT(port, 0);
        // Bound and listening already: connections wait in the backlog until it accepts.
        thread_ = std::thread([this] { server.listen_after_bind(); });
    }
    [[nodiscard]] std::string host() const { return "127.0.0.1:" + std::to_string(port); }

    // Each request's path and the headers a test looks at, in arrival order.
    struct Seen {
        std::string path, range, authorization;
    };
    void record(const httplib::Request& req) {
        std::lock_guard lock(mutex_);
        seen_.push_back(
            {req.path, req.get_header_value("Range"), req.get_header_value("Authorization")});
    }
    std::vector<Seen> seen() {
        std::lock_guard lock(mutex_);
        return seen_;
    }

    httplib::Server server;
    int port = 0;

  private:
    std::thread thread_;
    std::mutex mutex_;
    std::vector<Seen> seen_;
};

}  // namespace d2a::testing
