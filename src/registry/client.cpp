#include "registry/client.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
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
    http_->load_trust_for(base_url());
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

namespace {

// The one retry policy of registry requests: up to max_attempts tries, pausing between
// them (doubling from first_backoff, or longer when the server says so), each retry told
// to the notice callback. A cancelled transfer ends the pause at once.
class Retries {
  public:
    Retries(const RegistryOptions& options, std::string what, const std::atomic<bool>* cancelled)
        : options_(options),
          what_(std::move(what)),
          cancelled_(cancelled),
          backoff_(options.first_backoff) {}

    // After a failed try (`why`): pauses and returns true if another try is allowed.
    bool again(const std::string& why, std::chrono::milliseconds at_least = {}) {
        if (attempt_ >= options_.max_attempts) return false;
        const auto wait = std::max(backoff_, at_least);
        if (options_.notice) {
            options_.notice(what_ + ": " + why + "; retrying in " + std::to_string(wait.count()) +
                            " ms (attempt " + std::to_string(attempt_ + 1) + " of " +
                            std::to_string(options_.max_attempts) + ")");
        }
        pause(wait);
        backoff_ *= 2;
        ++attempt_;
        return true;
    }

  private:
    void pause(std::chrono::milliseconds wait) const {
        const auto until = std::chrono::steady_clock::now() + wait;
        for (auto now = std::chrono::steady_clock::now(); now < until;
             now = std::chrono::steady_clock::now()) {
            if (cancelled_ && cancelled_->load(std::memory_order_relaxed))
                throw Error(what_ + ": download cancelled");
            std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
                until - now, std::chrono::milliseconds(50)));
        }
    }

    const RegistryOptions& options_;
    std::string what_;
    const std::atomic<bool>* cancelled_;
    std::chrono::milliseconds backoff_;
    int attempt_ = 1;
};

}  // namespace

HttpResponse RegistryClient::perform_retrying(const HttpRequest& req, const std::string& what) {
    Retries retries(options_, what, req.cancelled);
    for (;;) {
        HttpResponse r;
        try {
            r = http_->perform(req);
        } catch (const Error& e) {
            // A streamed body may be partly written: its caller resumes with Range.
            if (req.sink || !retries.again(e.what())) throw e.within(what);
            continue;
        }
        if (transient(r.status)) {
            std::chrono::milliseconds server_says{0};
            if (auto ra = r.header("retry-after")) server_says = parse_retry_after(*ra);
            if (retries.again("HTTP " + std::to_string(r.status), server_says)) continue;
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
    // (Docker's schema 1 types only: "manifest.v1+" is also in OCI's manifest type, whose
    // digest is checked like any other.)
    const bool schema1 =
        m.media_type.rfind("application/vnd.docker.distribution.manifest.v1+", 0) == 0;
    if (auto header = r.header("docker-content-digest"); header && !schema1) {
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

namespace {

// A blob arriving in a file, hashed as the bytes come; the file is read back only for
// bytes that were there before (a partial file) or whose write failed half way.
class BlobFile {
  public:
    BlobFile(const FileDescriptor& fd, std::string name, HashAlgorithm algorithm)
        : fd_(fd), name_(std::move(name)), algorithm_(algorithm), hasher_(algorithm) {}

    [[nodiscard]] uint64_t size() const { return file_size(fd_.get()); }
    void truncate() {
        if (::ftruncate(fd_.get(), 0) != 0 || ::lseek(fd_.get(), 0, SEEK_SET) != 0)
            throw_errno(name_);
        restart_hash();
    }
    // Positions the file for appending at its end, hashing what it holds.
    uint64_t prepare_to_append() {
        const uint64_t have = size();
        hash_up_to(have);
        if (::lseek(fd_.get(), static_cast<off_t>(have), SEEK_SET) < 0) throw_errno(name_);
        return have;
    }
    void append(const char* data, size_t n) {
        write_fully(fd_.get(), data, n, name_);
        hasher_.update(data, n);
        hashed_ += n;
    }
    // Whether the file holds `data` at `offset`.
    [[nodiscard]] bool holds(uint64_t offset, const char* data, size_t n) const {
        std::vector<char> buf(std::min<size_t>(n, 1 << 16));
        while (n > 0) {
            const size_t want = std::min(n, buf.size());
            ssize_t got = ::pread(fd_.get(), buf.data(), want, static_cast<off_t>(offset));
            if (got < 0 && errno == EINTR) continue;
            if (got < 0) throw_errno(name_);
            if (got == 0 || std::memcmp(buf.data(), data, static_cast<size_t>(got)) != 0)
                return false;
            offset += static_cast<uint64_t>(got);
            data += got;
            n -= static_cast<size_t>(got);
        }
        return true;
    }
    std::string digest() {
        hash_up_to(size());
        return hasher_.hex_digest();
    }

  private:
    void restart_hash() {
        hasher_ = Hasher(algorithm_);
        hashed_ = 0;
    }
    void hash_up_to(uint64_t end) {
        if (end < hashed_) restart_hash();
        std::vector<char> buf;
        while (hashed_ < end) {
            buf.resize(1 << 20);
            size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), end - hashed_));
            ssize_t n = ::pread(fd_.get(), buf.data(), want, static_cast<off_t>(hashed_));
            if (n <= 0) throw_errno(name_);
            hasher_.update(buf.data(), static_cast<size_t>(n));
            hashed_ += static_cast<uint64_t>(n);
        }
    }

    const FileDescriptor& fd_;
    std::string name_;
    HashAlgorithm algorithm_;
    Hasher hasher_;
    uint64_t hashed_ = 0;  // the file's first `hashed_` bytes are in `hasher_`
};

}  // namespace

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
    BlobFile file(fd, file_name, digest.algorithm);
    Retries retries(options_, what, cancelled);
    bool ask_range = true;  // false once the server refused to continue our bytes
    for (;;) {
        if (size && file.size() > *size) file.truncate();  // a left-over longer than the blob
        const uint64_t have = file.prepare_to_append();
        if (size && have == *size && have > 0) break;
        if (cancelled && *cancelled) throw Error(what + ": download cancelled");
        HttpRequest req;
        req.url = base_url() + "/blobs/" + digest.str();
        req.cancelled = cancelled;
        if (options_.notice) {
            req.on_stall = [this, &what](const std::string& m) {
                options_.notice(what + ": " + m);
            };
        }
        if (have > 0 && ask_range)
            req.headers.push_back("Range: bytes=" + std::to_string(have) + "-");
        uint64_t written = have;  // bytes in the file
        uint64_t at = have;       // the blob offset of the next byte received
        bool first_chunk = true;
        std::string refused;  // why the sink stopped the transfer, when it did
        req.sink = [&](long status, const char* data, size_t n) {
            if (first_chunk) {
                first_chunk = false;
                // The whole blob again (the server ignores Range, or was not asked): the
                // bytes we have are compared with it, not rewritten.
                if (status == 200) at = 0;
            }
            if (size && at + n > *size) return false;  // more than the descriptor says
            if (at + n > limit) {
                refused = what + ": the registry sent more than " + std::to_string(limit) +
                          " bytes (--max-unpacked-size)";
                return false;
            }
            if (at < written) {
                const size_t known = static_cast<size_t>(std::min<uint64_t>(n, written - at));
                if (!file.holds(at, data, known)) {
                    refused =
                        what + ": the registry sent other bytes when the download started over";
                    return false;
                }
                at += known;
                data += known;
                n -= known;
                if (n == 0) return true;
            }
            file.append(data, n);
            written += n;
            at += n;
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
        if (cancelled && *cancelled) throw Error(what + ": download cancelled");
        if (!refused.empty()) {
            file.truncate();
            throw Error(refused);
        }
        if (failure.empty() && r.status == 416 && have > 0 && ask_range) {
            // The server will not continue our bytes: ask for the whole blob.
            ask_range = false;
            if (!retries.again("the server refuses to resume"))
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
            if (!retries.again(failure + " after " + std::to_string(written) + " bytes"))
                throw Error(failure);
            continue;
        }
        if (!size || written == *size) break;
        const std::string short_by =
            what + ": got " + std::to_string(written) + " of " + std::to_string(*size) + " bytes";
        if (!retries.again(short_by)) throw Error(short_by);
    }
    const uint64_t total = file.size();
    if (size && total != *size) {
        throw Error(what + ": size mismatch: expected " + std::to_string(*size) + " bytes, got " +
                    std::to_string(total));
    }
    const std::string actual = digest.algorithm_name() + ":" + file.digest();
    if (actual != digest.str()) {
        // Wrong bytes are no base to resume from. If they cannot be dropped, the next
        // attempt finds them wrong again: the mismatch is the error to report either way.
        try {
            file.truncate();
        } catch (const Error&) {  // the mismatch below is the error that matters
        }
        throw Error(what + ": digest mismatch: got " + actual);
    }
}

}  // namespace d2a
