#include "registry/client.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <nlohmann/json.hpp>
#include <thread>

#include "util/error.hpp"
#include "util/file.hpp"
#include "util/json.hpp"

namespace d2a {

using nlohmann::json;

namespace {

constexpr auto kMaxRetryAfter = std::chrono::seconds(60);

const char* kManifestAccept =
    "Accept: application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json, "
    "application/vnd.docker.distribution.manifest.v1+prettyjws, "
    "application/vnd.docker.distribution.manifest.v1+json";

bool transient(long status) {
    return status == 408 || status == 429 || status >= 500;
}

std::string url_escape(const std::string& s) {
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == ':' ||
            c == '/') {
            out += static_cast<char>(c);
        } else {
            char buf[4];
            std::snprintf(buf, sizeof buf, "%%%02X", c);
            out += buf;
        }
    }
    return out;
}

// The registry's own words from an error body ({"errors":[{"code","message"}]}).
std::string registry_message(const HttpResponse& r) {
    try {
        json j = parse_untrusted_json(r.body, "registry error");
        if (j.contains("errors") && j["errors"].is_array() && !j["errors"].empty()) {
            const json& e = j["errors"][0];
            std::string msg = json_string(e, "message");
            std::string code = json_string(e, "code");
            return code.empty() ? msg : code + ": " + msg;
        }
        if (j.contains("details") && j["details"].is_string()) return j["details"];
        // OAuth2 token endpoints (RFC 6749 section 5.2).
        if (j.contains("error") && j["error"].is_string()) {
            std::string description = json_string(j, "error_description");
            return j["error"].get<std::string>() + (description.empty() ? "" : ": " + description);
        }
    } catch (const Error&) {  // not the registry's JSON: the status alone tells the error
    }
    return "";
}

std::string describe_status(const HttpResponse& r, const std::string& what) {
    std::string kind;
    switch (r.status) {
        case 401:
            kind = "unauthorized";
            break;
        case 403:
            kind = "denied";
            break;
        case 404:
            kind = "not found";
            break;
        case 429:
            kind = "too many requests";
            break;
        default:
            kind = "HTTP " + std::to_string(r.status);
    }
    std::string msg = registry_message(r);
    return what + ": " + kind + (msg.empty() ? "" : " (" + msg + ")");
}

}  // namespace

std::chrono::milliseconds parse_retry_after(const std::string& value) {
    std::chrono::milliseconds wait{0};
    if (!value.empty() && std::all_of(value.begin(), value.end(), ::isdigit)) {
        wait = std::chrono::seconds(std::stoll(value.substr(0, 9)));
    } else {
        std::tm tm{};
        if (strptime(value.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm)) {
            time_t when = timegm(&tm);
            time_t now = time(nullptr);
            if (when > now) wait = std::chrono::seconds(when - now);
        }
    }
    return std::min<std::chrono::milliseconds>(wait, kMaxRetryAfter);
}

RegistryClient::RegistryClient(std::string registry, std::string repository,
                               RegistryOptions options, std::shared_ptr<AuthState> auth)
    : registry_(std::move(registry)),
      repository_(std::move(repository)),
      options_(std::move(options)),
      auth_(std::move(auth)) {
    TlsOptions tls;
    tls.verify = !options_.insecure_skip_verify;
    tls.host = registry_;
    for (const auto& dir : options_.cert_dirs) {
        std::filesystem::path host_dir = std::filesystem::path(dir) / registry_;
        std::error_code ec;
        if (!std::filesystem::is_directory(host_dir, ec)) continue;
        for (const auto& e : std::filesystem::directory_iterator(host_dir, ec)) {
            if (e.path().extension() == ".crt") tls.extra_ca_files.push_back(e.path());
        }
        if (std::filesystem::exists(host_dir / "client.cert") &&
            std::filesystem::exists(host_dir / "client.key")) {
            tls.client_cert = host_dir / "client.cert";
            tls.client_key = host_dir / "client.key";
        }
    }
    std::sort(tls.extra_ca_files.begin(), tls.extra_ca_files.end());
    http_ = std::make_unique<HttpClient>(std::move(tls));
}

RegistryClient::~RegistryClient() = default;

std::string RegistryClient::base_url() const {
    return std::string(options_.allow_http ? "http://" : "https://") + registry_ + "/v2/" +
           repository_;
}

void RegistryClient::authenticate(const HttpResponse& unauthorized, const std::string& what,
                                  const std::string& rejected) {
    std::lock_guard lock(auth_->mutex);
    if (auth_->authorization != rejected) return;  // another client already renewed it
    if (!auth_->credentials_loaded) {
        auth_->credentials = find_credentials(registry_, options_.credentials);
        auth_->credentials_loaded = true;
    }
    const std::optional<Credentials>& credentials = auth_->credentials;
    std::string& authorization = auth_->authorization;
    auto header = unauthorized.header("www-authenticate");
    if (!header) throw Error(describe_status(unauthorized, what));
    for (const auto& ch : parse_www_authenticate(*header)) {
        if (ch.scheme == "basic") {
            if (!credentials)
                throw Error(describe_status(unauthorized, what) + "; no credentials for " +
                            registry_);
            if (credentials->username.empty() && credentials->password.empty()) {
                throw Error(describe_status(unauthorized, what) + "; the credentials for " +
                            registry_ + " are an identity token, which needs token authentication");
            }
            authorization =
                "Basic " + base64_encode(credentials->username + ":" + credentials->password);
            return;
        }
        if (ch.scheme == "bearer") {
            auto realm = ch.params.find("realm");
            if (realm == ch.params.end()) throw Error(what + ": bearer challenge without a realm");
            std::string url = realm->second;
            if (url.rfind("https://", 0) != 0 &&
                !(options_.allow_http && url.rfind("http://", 0) == 0)) {
                throw Error(what + ": token realm " + url + " is not https");
            }
            std::string query;
            if (auto s = ch.params.find("service"); s != ch.params.end())
                query += "service=" + url_escape(s->second);
            std::string scope = "repository:" + repository_ + ":pull";
            if (auto sc = ch.params.find("scope"); sc != ch.params.end()) scope = sc->second;
            query += std::string(query.empty() ? "" : "&") + "scope=" + url_escape(scope);
            HttpRequest token_req;
            token_req.url = url + (url.find('?') == std::string::npos ? "?" : "&") + query;
            if (credentials && !credentials->identity_token.empty()) {
                // An identity token is an OAuth2 refresh token: exchanged by POST, the way
                // the docker CLI does; it never travels as a password.
                token_req.method = "POST";
                token_req.url = url;
                token_req.headers.push_back("Content-Type: application/x-www-form-urlencoded");
                token_req.body = "grant_type=refresh_token&refresh_token=" +
                                 url_escape(credentials->identity_token) +
                                 "&client_id=docker2aci&" + query;
            } else if (credentials) {
                // The realm the registry names gets the credentials (Docker Hub's auth
                // host differs from the registry); nothing else does.
                token_req.authorization =
                    "Basic " + base64_encode(credentials->username + ":" + credentials->password);
                token_req.auth_host = url_host(url);
            }
            HttpResponse r = perform_retrying(token_req, what + ": token request");
            if (r.status != 200)
                throw Error(describe_status(r, what + ": token request to " + url_host(url)));
            json j = parse_untrusted_json(r.body, what + ": token response");
            std::string token;
            for (const char* key : {"token", "access_token"}) {
                if (token.empty() && j.is_object() && j.contains(key) && j[key].is_string())
                    token = j[key];
            }
            if (token.empty()) throw Error(what + ": token response holds no token");
            authorization = "Bearer " + token;
            return;
        }
    }
    throw Error(describe_status(unauthorized, what) + "; unsupported authentication scheme");
}

void RegistryClient::notice_retry(const std::string& what, const std::string& why,
                                  std::chrono::milliseconds wait, int attempt) const {
    if (!options_.notice) return;
    options_.notice(what + ": " + why + "; retrying in " + std::to_string(wait.count()) +
                    " ms (attempt " + std::to_string(attempt + 1) + " of " +
                    std::to_string(options_.max_attempts) + ")");
}

HttpResponse RegistryClient::perform_retrying(const HttpRequest& req, const std::string& what) {
    std::chrono::milliseconds backoff = options_.first_backoff;
    for (int attempt = 1;; ++attempt) {
        HttpResponse r;
        try {
            r = http_->perform(req);
        } catch (const Error& e) {
            // A streamed body may be partly written: its caller resumes with Range.
            if (req.sink || attempt >= options_.max_attempts) throw e.within(what);
            notice_retry(what, e.what(), backoff, attempt);
            std::this_thread::sleep_for(backoff);
            backoff *= 2;
            continue;
        }
        if (transient(r.status) && attempt < options_.max_attempts) {
            auto wait = backoff;
            if (auto ra = r.header("retry-after")) wait = std::max(wait, parse_retry_after(*ra));
            notice_retry(what, "HTTP " + std::to_string(r.status), wait, attempt);
            std::this_thread::sleep_for(wait);
            backoff *= 2;
            continue;
        }
        return r;
    }
}

HttpResponse RegistryClient::request(HttpRequest req, const std::string& what) {
    req.auth_host = registry_;
    for (bool reauthenticated = false;; reauthenticated = true) {
        {
            std::lock_guard lock(auth_->mutex);
            req.authorization = auth_->authorization;
        }
        HttpResponse r = perform_retrying(req, what);
        if (r.status == 401 && url_host(r.url) != registry_) {
            // A host the registry redirected to: its challenge names no realm we trust,
            // and the registry's credentials are not for it.
            throw Error(what + ": unauthorized at " + url_host(r.url) + " (redirected from " +
                        registry_ + "); no credentials are sent there");
        }
        // First contact, or an expired token: (re)authenticate once and repeat.
        if (r.status != 401 || reauthenticated) return r;
        authenticate(r, what, req.authorization);
    }
}

FetchedManifest RegistryClient::fetch_manifest(const std::string& reference) {
    std::string what = registry_ + "/" + repository_ + ":" + reference;
    if (reference.find(':') != std::string::npos)
        what = registry_ + "/" + repository_ + "@" + reference;
    HttpRequest req;
    req.url = base_url() + "/manifests/" + reference;
    req.headers = {kManifestAccept};
    req.max_body = options_.max_metadata_bytes;
    HttpResponse r = request(req, what);
    if (r.status != 200) throw Error(describe_status(r, "manifest " + what));
    FetchedManifest m;
    m.body = std::move(r.body);
    auto by_digest = Digest::try_parse(reference);
    Digest actual = Digest::of(m.body, by_digest ? by_digest->algorithm : HashAlgorithm::sha256);
    if (by_digest && !(actual == *by_digest)) {
        throw Error("manifest " + what + ": digest mismatch: got " + actual.str());
    }
    m.digest = actual;
    json j = parse_untrusted_json(m.body, "manifest " + what);
    if (j.is_object() && j.contains("mediaType") && j["mediaType"].is_string()) {
        m.media_type = j["mediaType"];
    } else if (j.is_object() && j.contains("schemaVersion") && j["schemaVersion"] == 1) {
        m.media_type = "application/vnd.docker.distribution.manifest.v1+json";
    }
    if (m.media_type.empty()) {
        // Some writers (umoci) leave mediaType out: trust the Content-Type header.
        std::string ct = r.header("content-type").value_or("");
        m.media_type = ct.substr(0, ct.find(';'));
    }
    // A signed schema 1 manifest's digest covers its payload without the signatures, so
    // only other kinds can be checked against Docker-Content-Digest.
    if (auto header = r.header("docker-content-digest");
        header && m.media_type.find("manifest.v1+") == std::string::npos) {
        auto claimed = Digest::try_parse(*header);
        if (claimed && claimed->algorithm == actual.algorithm && !(*claimed == actual)) {
            throw Error("manifest " + what + ": body does not match Docker-Content-Digest " +
                        *header);
        }
    }
    return m;
}

std::string RegistryClient::fetch_small_blob(const Digest& digest, uint64_t max_bytes) {
    std::string what = "blob " + digest.str();
    HttpRequest req;
    req.url = base_url() + "/blobs/" + digest.str();
    req.max_body = max_bytes;
    HttpResponse r = request(req, what);
    if (r.status != 200) throw Error(describe_status(r, what));
    Digest actual = Digest::of(r.body, digest.algorithm);
    if (!(actual == digest)) throw Error(what + ": digest mismatch: got " + actual.str());
    return r.body;
}

void RegistryClient::fetch_blob(const Digest& digest, std::optional<uint64_t> size,
                                const FileDescriptor& fd, const std::string& file_name,
                                const std::function<void(uint64_t)>& progress,
                                const std::atomic<bool>* cancelled) {
    const std::string what = "blob " + digest.str();
    const uint64_t limit = options_.max_blob_bytes;
    if (size && *size > limit) {
        throw Error(what + ": its descriptor gives " + std::to_string(*size) +
                    " bytes, more than the limit of " + std::to_string(limit) +
                    " (--max-unpacked-size)");
    }
    std::string refused;  // why the sink stopped the transfer, when it did
    // The digest is computed as the bytes arrive; the file is read back only for bytes
    // that were there before (a partial file) or whose write failed half way.
    Hasher hasher(digest.algorithm);
    uint64_t hashed = 0;  // the file's first `hashed` bytes are in `hasher`
    auto restart_hash = [&] {
        hasher = Hasher(digest.algorithm);
        hashed = 0;
    };
    auto hash_file_up_to = [&](uint64_t end) {
        if (end < hashed) restart_hash();
        std::vector<char> buf;
        while (hashed < end) {
            buf.resize(1 << 20);
            size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), end - hashed));
            ssize_t n = ::pread(fd.get(), buf.data(), want, static_cast<off_t>(hashed));
            if (n <= 0) throw_errno(file_name);
            hasher.update(buf.data(), static_cast<size_t>(n));
            hashed += static_cast<uint64_t>(n);
        }
    };
    std::chrono::milliseconds backoff = options_.first_backoff;
    int failures = 0;
    for (;;) {
        uint64_t have = file_size(fd.get());
        if (size && have > *size) {
            if (::ftruncate(fd.get(), 0) != 0) throw_errno(file_name);
            have = 0;
        }
        hash_file_up_to(have);
        if (size && have == *size && have > 0) break;
        if (::lseek(fd.get(), static_cast<off_t>(have), SEEK_SET) < 0) throw_errno(file_name);
        HttpRequest req;
        req.url = base_url() + "/blobs/" + digest.str();
        if (options_.notice) {
            req.on_stall = [this, &what](const std::string& m) {
                options_.notice(what + ": " + m);
            };
        }
        if (have > 0) req.headers.push_back("Range: bytes=" + std::to_string(have) + "-");
        uint64_t written = have;
        bool first_chunk = true;
        req.sink = [&](long status, const char* data, size_t n) {
            if (first_chunk) {
                first_chunk = false;
                // A server that ignores Range sends the whole blob: start over.
                if (status == 200 && written > 0) {
                    if (::ftruncate(fd.get(), 0) != 0 || ::lseek(fd.get(), 0, SEEK_SET) != 0)
                        return false;
                    written = 0;
                    restart_hash();
                }
            }
            if (cancelled && *cancelled) {
                refused = what + ": download cancelled";
                return false;
            }
            if (size && written + n > *size) return false;  // more than the descriptor says
            if (written + n > limit) {
                refused = what + ": the registry sent more than " + std::to_string(limit) +
                          " bytes (--max-unpacked-size)";
                return false;
            }
            write_fully(fd.get(), data, n, file_name);
            hasher.update(data, n);
            hashed += n;
            written += n;
            if (progress) progress(written);
            return true;
        };
        HttpResponse r;
        std::string failure;
        try {
            r = request(req, what);
        } catch (const Error& e) {
            failure = e.what();
        }
        if (!refused.empty()) {
            if (::ftruncate(fd.get(), 0) != 0) throw_errno(file_name);
            throw Error(refused);
        }
        if (failure.empty() && r.status == 416 && have > 0) {
            // Our partial file is not a prefix the server will continue: start over.
            if (::ftruncate(fd.get(), 0) != 0) throw_errno(file_name);
            if (++failures >= options_.max_attempts)
                throw Error(what + ": server refuses to resume");
            continue;
        }
        if (failure.empty() && r.status != 200 && r.status != 206)
            throw Error(describe_status(r, what));
        if (!failure.empty()) {
            if (size && written > *size)
                throw Error(what + ": more data than the " + std::to_string(*size) +
                            " bytes its descriptor gives");
            // A dropped connection: keep what arrived and resume after a pause.
            if (++failures >= options_.max_attempts) throw Error(failure);
            notice_retry(what, failure + " after " + std::to_string(written) + " bytes", backoff,
                         failures);
            std::this_thread::sleep_for(backoff);
            backoff *= 2;
            continue;
        }
        if (!size || written == *size) break;
        if (++failures >= options_.max_attempts) {
            throw Error(what + ": got " + std::to_string(written) + " of " + std::to_string(*size) +
                        " bytes");
        }
    }
    // Verify the whole file.
    uint64_t total = file_size(fd.get());
    if (size && total != *size) {
        throw Error(what + ": size mismatch: expected " + std::to_string(*size) + " bytes, got " +
                    std::to_string(total));
    }
    hash_file_up_to(total);
    std::string actual = digest.algorithm_name() + ":" + hasher.hex_digest();
    if (actual != digest.str()) {
        // Wrong bytes are no base to resume from. If they cannot be dropped, the next
        // attempt finds them wrong again: the mismatch is the error to report either way.
        if (::ftruncate(fd.get(), 0) != 0) {
        }
        throw Error(what + ": digest mismatch: got " + actual);
    }
}

}  // namespace d2a
