// Docker Registry HTTP API v2 / OCI distribution client: manifests and blobs of one
// repository, with authentication, retries and resumable, verified downloads.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "registry/auth.hpp"
#include "registry/http.hpp"
#include "util/digest.hpp"
#include "util/file.hpp"

namespace d2a {

struct RegistryOptions {
    bool insecure_skip_verify = false;
    bool allow_http = false;
    std::vector<std::string> cert_dirs = {"/etc/docker/certs.d"};  // <dir>/<host[:port]>/ca.crt
    CredentialOptions credentials;
    int max_attempts = 5;
    std::chrono::milliseconds first_backoff{500};
    // Manifests and configs (--max-metadata-size).
    uint64_t max_metadata_bytes = 4 << 20;
    // Any one blob, whatever its descriptor says (or does not say: schema 1 has no sizes).
    uint64_t max_blob_bytes = 64ull << 30;
    // Told of each retry and of each stall (no data for a while), from any thread: what an
    // operator watching a slow pull wants to see (--debug).
    std::function<void(const std::string&)> notice;
};

struct FetchedManifest {
    std::string body;
    std::string media_type;  // from the document, else the Content-Type header
    Digest digest;           // verified: equals the digest asked for, or computed
};

// Credentials (looked up once) and the current Authorization value, shared by the
// clients that download one image's blobs in parallel.
struct AuthState {
    std::mutex mutex;
    bool credentials_loaded = false;
    std::optional<Credentials> credentials;
    std::string authorization;  // "Bearer ..." or "Basic ..."
};

class RegistryClient {
  public:
    RegistryClient(std::string registry, std::string repository, RegistryOptions options,
                   std::shared_ptr<AuthState> auth = std::make_shared<AuthState>());
    ~RegistryClient();
    RegistryClient(const RegistryClient&) = delete;
    RegistryClient& operator=(const RegistryClient&) = delete;

    // `reference` is a tag or a digest. A manifest fetched by digest must match it.
    FetchedManifest fetch_manifest(const std::string& reference);
    // Small blobs (configs) into memory, verified.
    std::string fetch_small_blob(const Digest& digest, uint64_t max_bytes);
    // Downloads a blob into an open file (an unnamed one, or a cache temp file),
    // `file_name` naming it in messages: resuming a partial file with Range, retrying on
    // transient failures; the file is complete and verified when this returns. Setting
    // `*cancelled` stops it mid-transfer with an error. Bytes it has written are never
    // rewritten, only compared with what a download that starts over sends (readers may
    // have taken them): the file's bytes are the ones hashed, whoever read them when.
    void fetch_blob(const Digest& digest, std::optional<uint64_t> size, const FileDescriptor& file,
                    const std::string& file_name,
                    const std::function<void(uint64_t done)>& progress = {},
                    const std::atomic<bool>* cancelled = nullptr);

    [[nodiscard]] std::shared_ptr<AuthState> auth_state() const { return auth_; }

  private:
    // The registry's answer, authenticating on a 401 once.
    HttpResponse request(HttpRequest req, const std::string& what);
    // Retries transport failures (unless a streamed body began) and 408/429/5xx answers,
    // backing off and obeying Retry-After; token requests use it too.
    HttpResponse perform_retrying(const HttpRequest& req, const std::string& what);
    // Replaces the shared Authorization after a 401 (unless another client already did).
    void authenticate(const HttpResponse& unauthorized, const std::string& what,
                      const std::string& rejected);
    std::string base_url() const;

    std::string registry_;
    std::string repository_;
    RegistryOptions options_;
    std::unique_ptr<HttpClient> http_;
    std::shared_ptr<AuthState> auth_;
};

// Seconds to wait from a Retry-After value (delta-seconds or an HTTP date), capped.
std::chrono::milliseconds parse_retry_after(const std::string& value);

}  // namespace d2a
