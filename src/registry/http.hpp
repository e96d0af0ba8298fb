// HTTP for registries (libcurl): one request at a time per client, redirects followed by
// hand so credentials never travel to another host, TLS verified against the system
// store plus SSL_CERT_FILE / SSL_CERT_DIR and per-registry CA files.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace d2a {

struct HttpResponse {
    long status = 0;
    std::multimap<std::string, std::string> headers;  // names lower-cased
    std::string body;                                 // unless streamed to a sink
    std::string url;                                  // after redirects
    [[nodiscard]] std::optional<std::string> header(const std::string& lower_name) const;
};

struct TlsOptions {
    bool verify = true;
    // The registry (host[:port]): the extra CAs and the client certificate apply to it
    // only, not to a host it redirects to. Empty: to every host.
    std::string host;
    std::vector<std::string> extra_ca_files;  // added to the system store
    std::string client_cert;                  // PEM, optional
    std::string client_key;
};

struct HttpRequest {
    std::string method = "GET";
    std::string url;
    std::vector<std::string> headers;  // "Name: value"
    // Credentials: sent only to `auth_host` (host[:port]); dropped on a redirect elsewhere.
    std::string authorization;
    std::string auth_host;
    std::string body;
    // Streams a 2xx body here (with its status) instead of into HttpResponse::body;
    // returning false aborts the transfer.
    std::function<bool(long status, const char*, size_t)> sink;
    size_t max_body = 4 << 20;  // for buffered bodies
    long timeout_seconds = 0;   // 0: none (stalls are caught by the low-speed limit)
    // Told when no byte has arrived for kStallNotice seconds, and again each time as long.
    std::function<void(const std::string&)> on_stall;
    // Set (from another thread) to end the transfer at once, even one that receives
    // nothing: perform() then throws "HOST: transfer cancelled".
    const std::atomic<bool>* cancelled = nullptr;
};

inline constexpr long kStallNotice = 10;

class HttpClient {
  public:
    explicit HttpClient(TlsOptions tls);
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;
    ~HttpClient();

    // Performs the request, following up to 10 redirects. Throws Error on transport
    // failures (connection refused, reset, TLS); HTTP errors come back as statuses. A
    // request with a body is never sent on to another host.
    HttpResponse perform(HttpRequest request);

    // Reads the certificates trusted for `url` (an https URL; nothing for http) now rather
    // than at its first request, so that a CA file that cannot be read or a store with no
    // certificate is an error at once, not a transport failure to retry.
    void load_trust_for(const std::string& url);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// "https://host:port/path" -> "host:port".
std::string url_host(const std::string& url);

}  // namespace d2a
