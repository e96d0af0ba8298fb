// `docker2aci serve` over libmicrohttpd: its thread pool, connection limits and timeouts
// bound what one client can take; files go out with sendfile. Every path is matched
// against the site's naming rules first and then opened one directory at a time without
// following links, so nothing outside the directory, no hidden temporary file and no
// planted link is ever served.
#include "serve/serve.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <cxxopts.hpp>
#include <docker2aci/docker2aci.hpp>
#include <mutex>
#include <nlohmann/json.hpp>
#include <ostream>
#include <vector>

namespace docker2aci::serve {

namespace {

constexpr size_t kMaxPath = 1024;
constexpr size_t kMaxSegments = 32;
// Marks a decoded byte no path may hold (an encoded NUL or slash, a bad escape): the path
// then fails site_path().
constexpr char kRefused = '\x01';

bool name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_' ||
           c == '~';
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// libmicrohttpd's unescaping, except that what must not be in a path is refused rather
// than decoded: "%00" would cut the C string short, "%2f" would make a separator of data.
size_t unescape(void*, MHD_Connection*, char* s) {
    char* out = s;
    for (const char* in = s; *in; ++in) {
        if (*in != '%') {
            *out++ = *in;
            continue;
        }
        const int hi = in[1] ? hex_value(in[1]) : -1;
        const int lo = hi >= 0 && in[2] ? hex_value(in[2]) : -1;
        if (hi < 0 || lo < 0) {
            *out++ = kRefused;
            continue;
        }
        const char c = static_cast<char>(hi * 16 + lo);
        *out++ = c == '\0' || c == '/' ? kRefused : c;
        in += 2;
    }
    *out = '\0';
    return static_cast<size_t>(out - s);
}

std::string http_date(time_t t) {
    char buf[64];
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return buf;
}

struct Options {
    std::string listen = "127.0.0.1:8080";
    std::string discovery_url;
    std::string dir;
    unsigned connections = 256;
    unsigned per_client = 32;
    unsigned timeout_s = 30;
    unsigned threads = 4;
};

class Server {
  public:
    Server(Options options, int dir_fd, std::ostream& err)
        : options_(std::move(options)), dir_fd_(dir_fd), err_(err) {}
    ~Server() { ::close(dir_fd_); }

    MHD_Result handle(MHD_Connection* c, const char* url, const char* method) {
        const std::string m = method;
        const std::string path = url;
        if (m != MHD_HTTP_METHOD_GET && m != MHD_HTTP_METHOD_HEAD)
            return text(c, MHD_HTTP_METHOD_NOT_ALLOWED, m, path, "only GET and HEAD\n");
        const char* discovery =
            MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "ac-discovery");
        // Any name's discovery answers with the site's page: its meta tags serve every
        // name under the prefix.
        if (discovery || path == "/" || path == "/index.html")
            return file(c, m, path, "index.html", "text/html; charset=utf-8");
        if (path == "/pubkeys.gpg") return file(c, m, path, "pubkeys.gpg", "application/pgp-keys");
        const std::optional<std::string> rel = site_path(path);
        if (!rel) return text(c, MHD_HTTP_BAD_REQUEST, m, path, "not a path of this site\n");
        const bool signature = rel->ends_with(".aci.asc");
        if (!signature && !rel->ends_with(".aci"))
            return text(c, MHD_HTTP_NOT_FOUND, m, path, "only ACIs and their signatures here\n");
        return file(c, m, path, *rel,
                    signature ? "application/pgp-signature" : "application/octet-stream");
    }

  private:
    // Opens `rel` under the directory one component at a time, following no link; a
    // FIFO or device never blocks. -1 with errno when it is not a regular file there.
    int open_below(const std::string& rel) const {
        int dir = ::dup(dir_fd_);
        if (dir < 0) return -1;
        size_t start = 0;
        for (;;) {
            const size_t slash = rel.find('/', start);
            const std::string name = rel.substr(start, slash - start);
            const int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
                              (slash == std::string::npos ? O_NONBLOCK : O_DIRECTORY);
            const int next = ::openat(dir, name.c_str(), flags);
            const int saved = errno;
            ::close(dir);
            if (next < 0) {
                errno = saved;
                return -1;
            }
            if (slash == std::string::npos) {
                struct stat st {};
                if (::fstat(next, &st) != 0 || !S_ISREG(st.st_mode)) {
                    ::close(next);
                    errno = ENOENT;
                    return -1;
                }
                return next;
            }
            dir = next;
            start = slash + 1;
        }
    }

    MHD_Result file(MHD_Connection* c, const std::string& method, const std::string& path,
                    const std::string& rel, const char* type) {
        const int fd = open_below(rel);
        if (fd < 0) {
            if (errno == ENOENT || errno == ELOOP || errno == ENOTDIR)
                return text(c, MHD_HTTP_NOT_FOUND, method, path, "no " + rel + " here\n");
            return text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, method, path,
                        rel + ": " + std::strerror(errno) + "\n");
        }
        struct stat st {};
        ::fstat(fd, &st);
        const uint64_t size = static_cast<uint64_t>(st.st_size);
        char etag[64];
        std::snprintf(etag, sizeof etag, "\"%llx-%llx\"", static_cast<unsigned long long>(size),
                      static_cast<unsigned long long>(st.st_mtim.tv_sec) * 1000000000ull +
                          static_cast<unsigned long long>(st.st_mtim.tv_nsec));
        const char* if_none_match =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
        if (if_none_match && std::string(if_none_match) == etag) {
            ::close(fd);
            MHD_Response* r = MHD_create_response_from_buffer(0, nullptr, MHD_RESPMEM_PERSISTENT);
            MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag);
            return queue(c, MHD_HTTP_NOT_MODIFIED, r, method, path, 0);
        }
        unsigned status = MHD_HTTP_OK;
        uint64_t first = 0, count = size;
        std::string content_range;
        const char* range = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_RANGE);
        if (range) {
            if (std::optional<ByteRange> r = parse_range(range, size)) {
                if (r->first >= size) {
                    ::close(fd);
                    MHD_Response* resp =
                        MHD_create_response_from_buffer(0, nullptr, MHD_RESPMEM_PERSISTENT);
                    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE,
                                            ("bytes */" + std::to_string(size)).c_str());
                    return queue(c, MHD_HTTP_RANGE_NOT_SATISFIABLE, resp, method, path, 0);
                }
                status = MHD_HTTP_PARTIAL_CONTENT;
                first = r->first;
                count = r->last - r->first + 1;
                content_range = "bytes " + std::to_string(r->first) + "-" +
                                std::to_string(r->last) + "/" + std::to_string(size);
            }
        }
        MHD_Response* r = MHD_create_response_from_fd_at_offset64(count, fd, first);
        if (!r) {
            ::close(fd);
            return MHD_NO;
        }
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
        MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag);
        MHD_add_response_header(r, MHD_HTTP_HEADER_LAST_MODIFIED,
                                http_date(st.st_mtim.tv_sec).c_str());
        MHD_add_response_header(r, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
        if (!content_range.empty())
            MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_RANGE, content_range.c_str());
        return queue(c, status, r, method, path, count);
    }

    MHD_Result text(MHD_Connection* c, unsigned status, const std::string& method,
                    const std::string& path, const std::string& body) {
        MHD_Response* r = MHD_create_response_from_buffer(
            body.size(), const_cast<char*>(body.data()), MHD_RESPMEM_MUST_COPY);
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
        if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
            MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
        return queue(c, status, r, method, path, body.size());
    }

    MHD_Result queue(MHD_Connection* c, unsigned status, MHD_Response* r, const std::string& method,
                     const std::string& path, uint64_t bytes) {
        const MHD_Result result = MHD_queue_response(c, status, r);
        MHD_destroy_response(r);
        nlohmann::json line = {{"method", method},
                               {"path", path},
                               {"status", status},
                               {"bytes", method == MHD_HTTP_METHOD_HEAD ? 0 : bytes}};
        {
            std::lock_guard lock(err_mutex_);
            err_ << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n"
                 << std::flush;
        }
        return result;
    }

    const Options options_;
    const int dir_fd_;
    std::ostream& err_;
    std::mutex err_mutex_;
};

MHD_Result on_request(void* cls, MHD_Connection* c, const char* url, const char* method,
                      const char*, const char*, size_t* upload_size, void** state) {
    // The first call only sees the headers; the answer comes on the second, once any
    // body (refused: nothing here takes one) has been read.
    static int seen;
    if (*state == nullptr) {
        *state = &seen;
        return MHD_YES;
    }
    if (*upload_size != 0) {
        *upload_size = 0;  // discarded
        return MHD_YES;
    }
    try {
        return static_cast<Server*>(cls)->handle(c, url, method);
    } catch (...) {
        return MHD_NO;  // the connection is closed; the server goes on
    }
}

cxxopts::Options make_parser() {
    cxxopts::Options o("docker2aci serve", "Serve a discovery site's directory over HTTP");
    // clang-format off
    o.add_options()
        ("listen", "Address and port to listen on", cxxopts::value<std::string>()->default_value("127.0.0.1:8080"), "HOST:PORT")
        ("discovery-url", "The site's URL, as its ACIs were named with", cxxopts::value<std::string>(), "URL")
        ("o,output-dir", "The site's directory", cxxopts::value<std::string>(), "DIR")
        ("connections", "Most connections at once", cxxopts::value<unsigned>()->default_value("256"), "N")
        ("connections-per-client", "Most connections from one address", cxxopts::value<unsigned>()->default_value("32"), "N")
        ("timeout", "Seconds a connection may stay idle", cxxopts::value<unsigned>()->default_value("30"), "S")
        ("h,help", "Print this help and exit");
    // clang-format on
    return o;
}

// Nothing for --help.
std::optional<Options> parse(int argc, const char* const* argv) {
    auto o = make_parser();
    auto r = o.parse(argc, argv);
    if (r.count("help")) return std::nullopt;
    Options out;
    out.listen = r["listen"].as<std::string>();
    if (!r.count("discovery-url")) throw UsageError("--discovery-url is required");
    if (!r.count("output-dir")) throw UsageError("--output-dir is required");
    out.discovery_url = r["discovery-url"].as<std::string>();
    out.dir = r["output-dir"].as<std::string>();
    out.connections = r["connections"].as<unsigned>();
    out.per_client = r["connections-per-client"].as<unsigned>();
    out.timeout_s = r["timeout"].as<unsigned>();
    if (out.connections == 0 || out.per_client == 0 || out.timeout_s == 0)
        throw UsageError("--connections, --connections-per-client and --timeout must be above 0");
    return out;
}

sockaddr_in listen_address(const std::string& listen) {
    const size_t colon = listen.rfind(':');
    sockaddr_in a{};
    a.sin_family = AF_INET;
    const std::string host = colon == std::string::npos ? "" : listen.substr(0, colon);
    const std::string port = colon == std::string::npos ? "" : listen.substr(colon + 1);
    char* end = nullptr;
    const unsigned long p = std::strtoul(port.c_str(), &end, 10);
    if (port.empty() || *end != '\0' || p > 65535 ||
        inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1) {
        throw UsageError("--listen wants an IPv4 address and a port, e.g. 127.0.0.1:8080, not \"" +
                         listen + "\"");
    }
    a.sin_port = htons(static_cast<uint16_t>(p));
    return a;
}

}  // namespace

std::optional<std::string> site_path(std::string_view url_path) {
    if (url_path.size() > kMaxPath || url_path.size() < 2 || url_path[0] != '/')
        return std::nullopt;
    const std::string_view rel = url_path.substr(1);
    size_t segments = 0;
    size_t start = 0;
    for (;;) {
        const size_t slash = rel.find('/', start);
        const std::string_view seg = rel.substr(start, slash - start);
        if (seg.empty() || seg[0] == '.' || ++segments > kMaxSegments) return std::nullopt;
        for (char c : seg) {
            if (!name_char(c)) return std::nullopt;
        }
        if (slash == std::string_view::npos) break;
        start = slash + 1;
    }
    return std::string(rel);
}

std::optional<ByteRange> parse_range(std::string_view header, uint64_t size) {
    constexpr std::string_view kUnit = "bytes=";
    if (!header.starts_with(kUnit)) return std::nullopt;
    const std::string_view spec = header.substr(kUnit.size());
    if (spec.find(',') != std::string_view::npos) return std::nullopt;
    const size_t dash = spec.find('-');
    if (dash == std::string_view::npos) return std::nullopt;
    auto number = [](std::string_view s) -> std::optional<uint64_t> {
        if (s.empty() || s.size() > 19) return std::nullopt;
        uint64_t v = 0;
        for (char c : s) {
            if (c < '0' || c > '9') return std::nullopt;
            v = v * 10 + static_cast<uint64_t>(c - '0');
        }
        return v;
    };
    const std::string_view a = spec.substr(0, dash), b = spec.substr(dash + 1);
    if (a.empty()) {  // the last N bytes
        const std::optional<uint64_t> n = number(b);
        if (!n) return std::nullopt;
        if (*n == 0 || size == 0) return ByteRange{size, size};
        return ByteRange{size - std::min(*n, size), size - 1};
    }
    const std::optional<uint64_t> first = number(a);
    if (!first) return std::nullopt;
    const std::optional<uint64_t> last = b.empty() ? first : number(b);
    if (!last || *last < *first) return std::nullopt;
    if (*first >= size) return ByteRange{size, size};
    if (b.empty()) return ByteRange{*first, size - 1};
    return ByteRange{*first, std::min(*last, size - 1)};
}

int run(int argc, const char* const* argv, std::ostream& err) {
    Options options;
    sockaddr_in address{};
    try {
        std::optional<Options> parsed = parse(argc, argv);
        if (!parsed) {
            err << make_parser().help();
            return 0;
        }
        options = *parsed;
        address = listen_address(options.listen);
    } catch (const std::exception& e) {  // UsageError, and cxxopts' own
        err << "Error: " << e.what() << "\nUsage: docker2aci serve --discovery-url URL -o DIR "
            << "[--listen HOST:PORT]   (see docker2aci serve --help)\n";
        return 2;
    }
    // The site's pages, as a batch with a discovery site leaves them (a directory of
    // earlier batch runs keeps its images; an empty one gets its page).
    try {
        docker2aci::Options site;
        site.set("output-dir", options.dir).set("discovery-url", options.discovery_url);
        docker2aci::Batch(site, {}, 1).run([](const docker2aci::Outcome&) {});
    } catch (const docker2aci::Error& e) {
        err << "Error: " << e.what() << "\n";
        return 1;
    }
    const int dir_fd = ::open(options.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0) {
        err << "Error: " << options.dir << ": " << std::strerror(errno) << "\n";
        return 1;
    }
    Server server(options, dir_fd, err);
    // Blocked before libmicrohttpd's threads start, so that they inherit the mask and the
    // signals wait for sigwait below.
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigset_t previous;
    pthread_sigmask(SIG_BLOCK, &stop, &previous);
    MHD_Daemon* daemon = MHD_start_daemon(
        MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0, nullptr, nullptr, &on_request, &server,
        MHD_OPTION_SOCK_ADDR, &address, MHD_OPTION_THREAD_POOL_SIZE,
        static_cast<unsigned>(options.threads), MHD_OPTION_CONNECTION_LIMIT,
        static_cast<unsigned>(options.connections), MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        static_cast<unsigned>(options.per_client), MHD_OPTION_CONNECTION_TIMEOUT,
        static_cast<unsigned>(options.timeout_s), MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        static_cast<size_t>(32 << 10), MHD_OPTION_UNESCAPE_CALLBACK, &unescape, nullptr,
        MHD_OPTION_END);
    if (!daemon) {
        pthread_sigmask(SIG_SETMASK, &previous, nullptr);
        err << "Error: cannot listen on " << options.listen << "\n";
        return 1;
    }
    const MHD_DaemonInfo* info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    char host[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &address.sin_addr, host, sizeof host);
    err << nlohmann::json{{"listening", std::string("http://") + host + ":" +
                                            std::to_string(info ? info->port : 0) + "/"},
                          {"directory", options.dir},
                          {"site", options.discovery_url}}
               .dump()
        << "\n"
        << std::flush;
    int signal = 0;
    sigwait(&stop, &signal);
    MHD_stop_daemon(daemon);
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    err << nlohmann::json{{"stopped", std::string("SIG") + sigabbrev_np(signal)}}.dump() << "\n";
    return 0;
}

}  // namespace docker2aci::serve
