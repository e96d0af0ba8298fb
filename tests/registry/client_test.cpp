// RegistryClient and HttpClient against an HTTP server inside the test process
// (support/http_server.hpp): manifests and their digests, retries with backoff and
// Retry-After, a download resumed with Range after a dropped connection, Basic and Bearer
// challenges, redirects (credentials never follow to another host), a digest mismatch,
// and a stalled download cancelled at once.
#include "registry/client.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "support/helpers.hpp"
#include "support/http_server.hpp"
#include "util/error.hpp"

namespace d2a {
namespace {

using testing::error_of;
using testing::TestServer;

class RegistryClientTest : public ::testing::Test {
  protected:
    void SetUp() override {
        options_.allow_http = true;
        options_.cert_dirs.clear();
        options_.first_backoff = std::chrono::milliseconds(1);
        options_.notice = [this](const std::string& m) {
            std::lock_guard lock(notices_mutex_);
            notices_.push_back(m);
        };
    }
    std::unique_ptr<RegistryClient> client(const TestServer& server) {
        return std::make_unique<RegistryClient>(server.host(), "team/app", options_);
    }
    // Downloads `digest` into a scratch file; returns what the file holds.
    std::string fetch(RegistryClient& c, const std::string& blob,
                      const std::atomic<bool>* cancelled = nullptr) {
        FileDescriptor file = make_scratch_file();
        c.fetch_blob(Digest::of(blob), blob.size(), file, "test blob", {}, cancelled);
        std::string out(file_size(file.get()), '\0');
        EXPECT_EQ(::pread(file.get(), out.data(), out.size(), 0), static_cast<ssize_t>(out.size()));
        return out;
    }
    std::vector<std::string> notices() {
        std::lock_guard lock(notices_mutex_);
        return notices_;
    }

    RegistryOptions options_;
    std::mutex notices_mutex_;
    std::vector<std::string> notices_;
    const std::string blob_ = std::string(200000, 'b') + "end";
    const std::string blob_path_ = "/v2/team/app/blobs/" + Digest::of(blob_).str();
};

TEST_F(RegistryClientTest, ManifestByTagAndItsDigest) {
    const std::string body =
        R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"})";
    TestServer s;
    s.server.Get("/v2/team/app/manifests/1", [&](const httplib::Request&, httplib::Response& res) {
        res.set_header("Docker-Content-Digest", Digest::of(body).str());
        res.set_content(body, "application/vnd.oci.image.manifest.v1+json");
    });
    s.server.Get("/v2/team/app/manifests/lying",
                 [&](const httplib::Request&, httplib::Response& res) {
                     res.set_header("Docker-Content-Digest", Digest::of("other").str());
                     res.set_content(body, "application/vnd.oci.image.manifest.v1+json");
                 });
    s.start();
    auto c = client(s);
    FetchedManifest m = c->fetch_manifest("1");
    EXPECT_EQ(m.body, body);
    EXPECT_EQ(m.media_type, "application/vnd.oci.image.manifest.v1+json");
    EXPECT_EQ(m.digest, Digest::of(body));
    // An OCI manifest's Docker-Content-Digest is checked too (its type holds "manifest.v1+",
    // like Docker's schema 1 whose digest covers less than the body).
    EXPECT_EQ(error_of([&] { c->fetch_manifest("lying"); }),
              "manifest " + s.host() + "/team/app:lying: body does not match " +
                  "Docker-Content-Digest " + Digest::of("other").str());
    // By digest: the body must have that digest.
    EXPECT_NE(error_of([&] { c->fetch_manifest(Digest::of("x").str()); }), "no error");
}

TEST_F(RegistryClientTest, RetriesServerErrorsAndObeysRetryAfter) {
    TestServer s;
    std::atomic<int> calls{0};
    s.server.Get(blob_path_, [&](const httplib::Request& req, httplib::Response& res) {
        s.record(req);
        const int n = ++calls;
        if (n == 1) {
            res.status = 503;
        } else if (n == 2) {
            res.status = 429;
            res.set_header("Retry-After", "1");
        } else {
            res.set_content(blob_, "application/octet-stream");
        }
    });
    s.start();
    auto c = client(s);
    EXPECT_TRUE(fetch(*c, blob_) == blob_);
    EXPECT_EQ(calls.load(), 3);
    const auto n = notices();
    ASSERT_EQ(n.size(), 2u);
    EXPECT_NE(n[0].find("503"), std::string::npos) << n[0];
    EXPECT_NE(n[0].find("retrying in 1 ms (attempt 2 of 5)"), std::string::npos) << n[0];
    EXPECT_NE(n[1].find("429"), std::string::npos) << n[1];
    EXPECT_NE(n[1].find("retrying in 1000 ms (attempt 3 of 5)"), std::string::npos) << n[1];
}

TEST_F(RegistryClientTest, GivesUpAfterMaxAttempts) {
    options_.max_attempts = 2;
    TestServer s;
    std::atomic<int> calls{0};
    s.server.Get(blob_path_, [&](const httplib::Request&, httplib::Response& res) {
        ++calls;
        res.status = 502;
    });
    s.start();
    auto c = client(s);
    EXPECT_NE(error_of([&] { fetch(*c, blob_); }).find("502"), std::string::npos);
    EXPECT_EQ(calls.load(), 2);  // max_attempts tries in all
}

// The connection drops half way: the next request asks for the rest with Range.
TEST_F(RegistryClientTest, DroppedDownloadResumesWithRange) {
    TestServer s;
    std::atomic<int> calls{0};
    s.server.Get(blob_path_, [&](const httplib::Request& req, httplib::Response& res) {
        s.record(req);
        if (++calls == 1) {
            res.set_content_provider(blob_.size(), "application/octet-stream",
                                     [&](size_t offset, size_t, httplib::DataSink& sink) {
                                         if (offset >= 100000) return false;  // drop
                                         sink.write(blob_.data(), 100000);
                                         return true;
                                     });
            return;
        }
        // The whole blob: the server answers a Range request with 206 and that range.
        res.set_content(blob_, "application/octet-stream");
    });
    s.start();
    auto c = client(s);
    EXPECT_TRUE(fetch(*c, blob_) == blob_);
    const auto seen = s.seen();
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0].range, "");
    EXPECT_EQ(seen[1].range, "bytes=100000-");
}

TEST_F(RegistryClientTest, DigestMismatchFails) {
    TestServer s;
    s.server.Get(blob_path_, [&](const httplib::Request&, httplib::Response& res) {
        std::string wrong = blob_;
        wrong[0] = 'X';
        res.set_content(wrong, "application/octet-stream");
    });
    s.start();
    auto c = client(s);
    EXPECT_NE(error_of([&] { fetch(*c, blob_); }).find(": digest mismatch: got sha256:"),
              std::string::npos);
}

TEST_F(RegistryClientTest, BasicChallengeIsAnsweredWithTheCredentials) {
    options_.credentials.username = "alice";
    options_.credentials.password = "s3cret";
    TestServer s;
    s.server.Get(blob_path_, [&](const httplib::Request& req, httplib::Response& res) {
        s.record(req);
        if (req.get_header_value("Authorization") != "Basic YWxpY2U6czNjcmV0") {
            res.status = 401;
            res.set_header("WWW-Authenticate", R"(Basic realm="test")");
            return;
        }
        res.set_content(blob_, "application/octet-stream");
    });
    s.start();
    auto c = client(s);
    EXPECT_TRUE(fetch(*c, blob_) == blob_);
    const auto seen = s.seen();
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0].authorization, "");
    EXPECT_EQ(seen[1].authorization, "Basic YWxpY2U6czNjcmV0");
}

TEST_F(RegistryClientTest, BearerChallengeFetchesATokenFromTheRealm) {
    options_.credentials.username = "bob";
    options_.credentials.password = "pw";
    TestServer s;
    std::mutex token_mutex;  // the server's thread writes, the test reads
    std::string token_query, token_auth;
    s.server.Get("/token", [&](const httplib::Request& req, httplib::Response& res) {
        std::lock_guard lock(token_mutex);
        token_query =
            "service=" + req.get_param_value("service") + " scope=" + req.get_param_value("scope");
        token_auth = req.get_header_value("Authorization");
        res.set_content(R"({"token":"t0k"})", "application/json");
    });
    s.server.Get(blob_path_, [&](const httplib::Request& req, httplib::Response& res) {
        if (req.get_header_value("Authorization") != "Bearer t0k") {
            res.status = 401;
            res.set_header("WWW-Authenticate",
                           "Bearer realm=\"http://" + s.host() + "/token\",service=\"reg\"");
            return;
        }
        res.set_content(blob_, "application/octet-stream");
    });
    s.start();
    auto c = client(s);
    EXPECT_TRUE(fetch(*c, blob_) == blob_);
    std::lock_guard lock(token_mutex);
    EXPECT_EQ(token_query, "service=reg scope=repository:team/app:pull");
    EXPECT_EQ(token_auth, "Basic Ym9iOnB3");
}

// A blob redirected to another host (a CDN): fetched there, without the registry's
// credentials.
TEST_F(RegistryClientTest, RedirectElsewhereCarriesNoCredentials) {
    options_.credentials.username = "alice";
    options_.credentials.password = "s3cret";
    TestServer cdn;
    cdn.server.Get("/blob", [&](const httplib::Request& req, httplib::Response& res) {
        cdn.record(req);
        res.set_content(blob_, "application/octet-stream");
    });
    cdn.start();
    TestServer s;
    s.server.Get(blob_path_, [&](const httplib::Request& req, httplib::Response& res) {
        if (req.get_header_value("Authorization").empty()) {
            res.status = 401;
            res.set_header("WWW-Authenticate", R"(Basic realm="test")");
            return;
        }
        res.status = 307;
        res.set_header("Location", "http://" + cdn.host() + "/blob");
    });
    s.start();
    auto c = client(s);
    EXPECT_TRUE(fetch(*c, blob_) == blob_);
    const auto seen = cdn.seen();
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].authorization, "");
}

// A download that receives nothing ends as soon as it is cancelled.
TEST_F(RegistryClientTest, StalledDownloadIsCancelledAtOnce) {
    TestServer s;
    std::atomic<bool> done{false};
    s.server.Get(blob_path_, [&](const httplib::Request&, httplib::Response& res) {
        res.set_content_provider(blob_.size(), "application/octet-stream",
                                 [&](size_t, size_t, httplib::DataSink& sink) {
                                     sink.write(blob_.data(), 1000);
                                     while (!done)
                                         std::this_thread::sleep_for(std::chrono::milliseconds(10));
                                     return false;
                                 });
    });
    s.start();
    auto c = client(s);
    std::atomic<bool> cancelled{false};
    std::thread canceller([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        cancelled = true;
    });
    const std::string error = error_of([&] { fetch(*c, blob_, &cancelled); });
    canceller.join();
    done = true;
    EXPECT_EQ(error, "blob " + Digest::of(blob_).str() + ": download cancelled");
}

}  // namespace
}  // namespace d2a
