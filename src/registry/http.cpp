#include "registry/http.hpp"

#include <curl/curl.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <set>

#include "util/error.hpp"
#include "util/file.hpp"

namespace d2a {

std::optional<std::string> HttpResponse::header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    if (it == headers.end()) return std::nullopt;
    return it->second;
}

std::string url_host(const std::string& url) {
    auto scheme = url.find("://");
    size_t start = scheme == std::string::npos ? 0 : scheme + 3;
    size_t end = url.find_first_of("/?#", start);
    std::string host =
        url.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (auto at = host.rfind('@'); at != std::string::npos) host = host.substr(at + 1);
    std::transform(host.begin(), host.end(), host.begin(), ::tolower);
    return host;
}

namespace {

constexpr size_t kMaxCertificateFileBytes = 64 << 20;

// A certificate file's text; one that cannot be read adds nothing.
std::string read_text_file(const std::string& path) {
    return read_file_if_present(path, kMaxCertificateFileBytes).value_or("");
}

bool is_certificate_file_name(const std::string& name) {
    auto ends_with = [&](std::string_view suffix) {
        return name.size() >= suffix.size() &&
               name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    if (ends_with(".pem") || ends_with(".crt") || ends_with(".cer")) return true;
    // OpenSSL's hashed names: eight hex digits, a dot, a number.
    if (name.size() < 10 || name[8] != '.') return false;
    return std::all_of(name.begin(), name.begin() + 8, ::isxdigit) &&
           std::all_of(name.begin() + 9, name.end(), ::isdigit);
}

// The CA bundle: the system store (or SSL_CERT_FILE / SSL_CERT_DIR, as OpenSSL and Go
// read them) plus any extra files.
std::string ca_bundle(const std::vector<std::string>& extra) {
    std::string pem;
    const char* file = std::getenv("SSL_CERT_FILE");
    const char* dir = std::getenv("SSL_CERT_DIR");
    if (file && *file) {
        pem += read_text_file(file) + "\n";
    } else {
        for (const char* p :
             {"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"}) {
            if (std::filesystem::exists(p)) {
                pem += read_text_file(p) + "\n";
                break;
            }
        }
    }
    if (dir && *dir) {
        // A colon-separated list, as OpenSSL and Go read it; certificates under their own
        // names or under OpenSSL's hashed ones (`c_rehash`: 1a2b3c4d.0).
        std::string_view dirs(dir);
        std::vector<std::string> files;
        while (!dirs.empty()) {
            size_t colon = dirs.find(':');
            std::string one(dirs.substr(0, colon));
            dirs = colon == std::string_view::npos ? std::string_view() : dirs.substr(colon + 1);
            std::error_code ec;
            for (const auto& e : std::filesystem::directory_iterator(one, ec)) {
                std::error_code type_ec;
                if (e.is_regular_file(type_ec) &&
                    is_certificate_file_name(e.path().filename().string())) {
                    files.push_back(e.path());
                }
            }
        }
        // Each certificate once: /etc/ssl/certs names every file twice (name and hash),
        // both links to one file; one stat tells them apart (resolving each path took
        // six readlink calls a file).
        std::sort(files.begin(), files.end());
        std::set<std::pair<dev_t, ino_t>> seen;
        for (const auto& f : files) {
            struct stat st {};
            if (::stat(f.c_str(), &st) == 0 && !seen.insert({st.st_dev, st.st_ino}).second)
                continue;
            pem += read_text_file(f) + "\n";
        }
    }
    for (const auto& f : extra) {
        if (!std::filesystem::exists(f)) throw Error("CA file " + f + " does not exist");
        pem += read_text_file(f) + "\n";
    }
    return pem;
}

std::string env_either(const char* lower, const char* upper) {
    const char* v = std::getenv(lower);
    if (!v || !*v) v = std::getenv(upper);
    return v ? v : "";
}

struct Transfer {
    HttpResponse* response;
    const HttpRequest* request;
    std::string error;
    bool aborted = false;
    std::string host;  // for stall notices
    curl_off_t last_bytes = -1;
    std::chrono::steady_clock::time_point last_change = std::chrono::steady_clock::now();
};

// Ends a cancelled transfer (curl calls this about once a second even when no byte
// arrives), and reports a transfer that has received nothing for kStallNotice seconds
// (then again after as long): curl's low-speed limit ends it only after a minute,
// silently until then.
int on_transfer_info(void* user, curl_off_t, curl_off_t received, curl_off_t, curl_off_t) {
    auto* t = static_cast<Transfer*>(user);
    if (t->request->cancelled && t->request->cancelled->load(std::memory_order_relaxed)) {
        t->error = "transfer cancelled";
        return 1;
    }
    if (!t->request->on_stall) return 0;
    auto now = std::chrono::steady_clock::now();
    if (received != t->last_bytes) {
        t->last_bytes = received;
        t->last_change = now;
        return 0;
    }
    auto quiet = std::chrono::duration_cast<std::chrono::seconds>(now - t->last_change).count();
    if (quiet >= kStallNotice) {
        t->request->on_stall(t->host + ": no data for " + std::to_string(quiet) + " s (" +
                             std::to_string(received) + " bytes so far)");
        t->last_change = now;
    }
    return 0;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    std::string line(data, size * count);
    if (line.rfind("HTTP/", 0) == 0) {
        t->response->headers.clear();  // a new response (after 100 Continue, say)
        return size * count;
    }
    auto colon = line.find(':');
    if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        std::transform(name.begin(), name.end(), name.begin(), ::tolower);
        std::string value = line.substr(colon + 1);
        while (!value.empty() &&
               (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
            value.pop_back();
        }
        size_t s = value.find_first_not_of(' ');
        t->response->headers.emplace(name, s == std::string::npos ? "" : value.substr(s));
    }
    return size * count;
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    size_t n = size * count;
    if (t->request->sink && t->response->status / 100 == 2) {
        if (!t->request->sink(t->response->status, data, n)) {
            t->aborted = true;
            return 0;
        }
        return n;
    }
    if (t->response->body.size() + n > t->request->max_body) {
        t->error = "response body larger than " + std::to_string(t->request->max_body) + " bytes";
        t->aborted = true;
        return 0;
    }
    t->response->body.append(data, n);
    return n;
}

// Where a redirect leads, resolved against the URL it came from; only http(s), and never
// from https down to http (that would drop TLS).
std::string redirect_target(const std::string& url, const HttpResponse& response) {
    auto location = response.header("location");
    if (!location) throw Error(url_host(url) + ": redirect without a Location");
    char* next = nullptr;
    CURLU* u = curl_url();
    curl_url_set(u, CURLUPART_URL, url.c_str(), 0);
    curl_url_set(u, CURLUPART_URL, location->c_str(), 0);  // resolves relative targets
    curl_url_get(u, CURLUPART_URL, &next, 0);
    std::string resolved = next ? next : "";
    curl_free(next);
    curl_url_cleanup(u);
    if (resolved.rfind("http://", 0) != 0 && resolved.rfind("https://", 0) != 0) {
        throw Error(url_host(url) + ": redirect to an unsupported URL");
    }
    if (url.rfind("https://", 0) == 0 && resolved.rfind("http://", 0) == 0) {
        throw Error(url_host(url) + ": refusing a redirect from https to http");
    }
    return resolved;
}

}  // namespace

struct HttpClient::Impl {
    CURL* curl = nullptr;
    TlsOptions tls;
    // Read for the first https URL (a plain-http registry never needs them):
    std::optional<std::string> bundle;         // the system store plus tls.extra_ca_files
    std::optional<std::string> system_bundle;  // for any host but tls.host

    [[nodiscard]] bool registry_host(const std::string& url) const {
        return tls.host.empty() || url_host(url) == tls.host;
    }

    // The registry's CA files go to the registry's host only; any other host (a blob CDN
    // it redirects to) is checked against the system store alone.
    const std::string& trusted_for(const std::string& url) {
        if (!bundle) {
            bundle = ca_bundle(tls.extra_ca_files);
            system_bundle = tls.extra_ca_files.empty() ? *bundle : ca_bundle({});
        }
        const std::string& trusted = registry_host(url) ? *bundle : *system_bundle;
        if (trusted.find("BEGIN CERTIFICATE") == std::string::npos) {
            throw Error(url_host(url) +
                        ": no trusted CA certificates (install ca-certificates, or "
                        "give SSL_CERT_FILE, SSL_CERT_DIR or --cert-dir)");
        }
        return trusted;
    }

    // The client certificate, like the registry's CA files, goes to the registry's host
    // only.
    void configure_tls(CURL* c, const std::string& url) {
        const bool https = url.rfind("https://", 0) == 0;
        if (tls.verify && https) {
            const std::string& trusted = trusted_for(url);
            // Not copied by curl: the bundle lives as long as this client.
            curl_blob blob{const_cast<char*>(trusted.data()), trusted.size(), CURL_BLOB_NOCOPY};
            curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob);
        } else if (!tls.verify) {
            curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
            curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
        }
        if (!tls.client_cert.empty() && registry_host(url)) {
            curl_easy_setopt(c, CURLOPT_SSLCERT, tls.client_cert.c_str());
            curl_easy_setopt(c, CURLOPT_SSLKEY, tls.client_key.c_str());
        }
    }
};

HttpClient::HttpClient(TlsOptions tls) : impl_(std::make_unique<Impl>()) {
    static const bool initialised = [] {
        return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
    }();
    if (!initialised) throw Error("cannot initialise libcurl");
    impl_->curl = curl_easy_init();
    if (!impl_->curl) throw Error("cannot initialise libcurl");
    impl_->tls = std::move(tls);
}

HttpClient::~HttpClient() {
    if (impl_->curl) curl_easy_cleanup(impl_->curl);
}

void HttpClient::load_trust_for(const std::string& url) {
    if (impl_->tls.verify && url.rfind("https://", 0) == 0) (void)impl_->trusted_for(url);
}

HttpResponse HttpClient::perform(HttpRequest request) {
    CURL* c = impl_->curl;
    std::string url = request.url;
    for (int redirects = 0;; ++redirects) {
        curl_easy_reset(c);
        HttpResponse response;
        Transfer transfer{&response, &request, "", false, url_host(url)};
        if (request.on_stall || request.cancelled) {
            curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, &on_transfer_info);
            curl_easy_setopt(c, CURLOPT_XFERINFODATA, &transfer);
            curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        } else {
            curl_easy_setopt(c, CURLOPT_NOPROGRESS, 1L);
        }
        curl_easy_setopt(c, CURLOPT_URL, url.c_str());
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
        if (request.method == "HEAD") curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
        if (!request.body.empty()) {
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.c_str());
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(request.body.size()));
        }
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
        // A transfer slower than 1 KB/s for 60 s is stalled: fail and let the caller retry.
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
        if (request.timeout_seconds) curl_easy_setopt(c, CURLOPT_TIMEOUT, request.timeout_seconds);
        curl_easy_setopt(c, CURLOPT_USERAGENT, "docker2aci/0.18");
        curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "identity");
        curl_easy_setopt(c, CURLOPT_HEADERDATA, &transfer);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &transfer);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        impl_->configure_tls(c, url);
        // libcurl reads http_proxy, https_proxy and no_proxy/NO_PROXY itself but ignores
        // the upper-case HTTP_PROXY; honour both spellings as other tools do.
        std::string proxy = url.rfind("https:", 0) == 0 ? env_either("https_proxy", "HTTPS_PROXY")
                                                        : env_either("http_proxy", "HTTP_PROXY");
        if (!proxy.empty()) curl_easy_setopt(c, CURLOPT_PROXY, proxy.c_str());

        curl_slist* headers = nullptr;
        for (const auto& h : request.headers) headers = curl_slist_append(headers, h.c_str());
        if (!request.authorization.empty() && url_host(url) == request.auth_host) {
            headers =
                curl_slist_append(headers, ("Authorization: " + request.authorization).c_str());
        }
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
        // The status is needed before the body arrives, to route it to the sink.
        curl_easy_setopt(
            c, CURLOPT_HEADERFUNCTION, +[](char* d, size_t s, size_t n, void* u) -> size_t {
                auto* t = static_cast<Transfer*>(u);
                std::string line(d, s * n);
                if (line.rfind("HTTP/", 0) == 0) {
                    auto sp = line.find(' ');
                    if (sp != std::string::npos)
                        t->response->status = std::strtol(line.c_str() + sp + 1, nullptr, 10);
                }
                return on_header(d, s, n, u);
            });
        // curl's own detail says why (which certificate check failed, say); the code's
        // generic text is the fallback.
        char curl_detail[CURL_ERROR_SIZE] = {};
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_detail);
        CURLcode rc = curl_easy_perform(c);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);
        curl_slist_free_all(headers);
        if (rc != CURLE_OK &&
            !(rc == CURLE_WRITE_ERROR && transfer.aborted && transfer.error.empty())) {
            if (!transfer.error.empty()) throw Error(url_host(url) + ": " + transfer.error);
            throw Error(url_host(url) + ": " +
                        (curl_detail[0] ? curl_detail : curl_easy_strerror(rc)));
        }
        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        response.status = status;
        response.url = url;
        if (transfer.aborted) throw Error(url_host(url) + ": transfer aborted");
        if (status == 301 || status == 302 || status == 303 || status == 307 || status == 308) {
            if (redirects >= 10) throw Error(url_host(url) + ": too many redirects");
            const std::string resolved = redirect_target(url, response);
            if (request.method == "POST" && status == 303) {
                request.method = "GET";
                request.body.clear();
            }
            // A body (a refresh token, say) goes to the host it was meant for only.
            if (!request.body.empty() && url_host(resolved) != url_host(url)) {
                throw Error(url_host(url) + ": refusing to send a request body on to " +
                            url_host(resolved));
            }
            url = resolved;
            continue;
        }
        return response;
    }
}

}  // namespace d2a
