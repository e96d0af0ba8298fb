#include "publish/discovery_site.hpp"

#include <algorithm>
#include <map>
#include <tuple>
#include <vector>

#include "aci/inspect.hpp"
#include "aci/naming.hpp"
#include "publish/publish.hpp"
#include "publish/signer.hpp"
#include "util/error.hpp"
#include "util/file.hpp"

namespace d2a {

namespace {

constexpr const char* kPubkeysFile = "pubkeys.gpg";

bool host_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
}
bool path_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_' ||
           c == '~' || c == '/';
}

std::string html(const std::string& s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::string label(const nlohmann::json& manifest, const std::string& name) {
    if (!manifest.contains("labels") || !manifest["labels"].is_array()) return "";
    for (const auto& l : manifest["labels"]) {
        if (l.is_object() && l.value("name", "") == name && l.contains("value") &&
            l["value"].is_string())
            return l["value"];
    }
    return "";
}

std::string human_size(uint64_t bytes) {
    char buf[32];
    if (bytes >= (1u << 20)) {
        std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(bytes) / 1e6);
    } else {
        std::snprintf(buf, sizeof buf, "%.1f kB", static_cast<double>(bytes) / 1e3);
    }
    return buf;
}

struct Listed {
    std::string name, version, os, arch, file;
    uint64_t size = 0;
    bool signed_ = false;
};

std::vector<Listed> list_acis(const std::filesystem::path& dir) {
    std::vector<Listed> out;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
         it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) break;
        const auto& path = it->path();
        std::string file = path.filename().string();
        // Hidden names are temporary files of conversions in progress.
        if (file.empty() || file[0] == '.' || path.extension() != ".aci") continue;
        if (!it->is_regular_file(ec)) continue;
        auto manifest = read_aci_manifest(path);
        if (!manifest || !manifest->contains("name") || !(*manifest)["name"].is_string()) continue;
        Listed l;
        l.name = (*manifest)["name"];
        l.version = label(*manifest, "version");
        l.os = label(*manifest, "os");
        l.arch = label(*manifest, "arch");
        l.file = std::filesystem::relative(path, dir).string();
        l.size = it->file_size(ec);
        l.signed_ = std::filesystem::exists(signature_path(path), ec);
        out.push_back(std::move(l));
    }
    std::sort(out.begin(), out.end(), [](const Listed& a, const Listed& b) {
        return std::tie(a.name, a.version, a.os, a.arch) <
               std::tie(b.name, b.version, b.os, b.arch);
    });
    return out;
}

void write_atomically(const std::filesystem::path& path, const std::string& text) {
    AtomicFile file(path);
    file.write(text.data(), text.size());
    file.commit();
}

}  // namespace

DiscoverySite DiscoverySite::parse(const std::string& url) {
    auto bad = [&](const std::string& why) { return Error("--discovery-url " + url + ": " + why); };
    std::string rest;
    for (const char* scheme : {"https://", "http://"}) {
        if (url.rfind(scheme, 0) == 0) rest = url.substr(std::string(scheme).size());
    }
    if (rest.empty()) throw bad("want http:// or https://, a host and an optional path");
    size_t slash = rest.find('/');
    std::string authority = rest.substr(0, slash);
    std::string path = slash == std::string::npos ? "" : rest.substr(slash);
    while (!path.empty() && path.back() == '/') path.pop_back();
    std::string host = authority.substr(0, authority.find(':'));
    std::optional<unsigned> port;
    if (authority.find(':') != std::string::npos) {
        const std::string digits = authority.substr(authority.find(':') + 1);
        const bool number = !digits.empty() && digits.size() <= 5 && digits[0] != '0' &&
                            std::all_of(digits.begin(), digits.end(), ::isdigit);
        if (!number || std::stoul(digits) > 65535)
            throw bad("the port must be a number from 1 to 65535, not \"" + digits + "\"");
        port = static_cast<unsigned>(std::stoul(digits));
    }
    // The prefix starts every AC name on the site: it must be one (lower case, no
    // doubled or trailing separators), and nothing else may ride along (query, fragment).
    if (host.empty() || !std::all_of(host.begin(), host.end(), host_char) || host.front() == '.' ||
        host.front() == '-') {
        throw bad("the host must be lower case letters, digits, '.' and '-'");
    }
    if (!std::all_of(path.begin(), path.end(), path_char) || path.find("//") != std::string::npos ||
        path.find("/.") != std::string::npos) {
        throw bad("the path must be lower case letters, digits and '-._~' between single slashes");
    }
    DiscoverySite site;
    site.url = url.substr(0, url.find("://") + 3) + authority + path;
    site.prefix = host + path;
    site.port = port;
    if (sanitize_ac_identifier(site.prefix) != site.prefix)
        throw bad("\"" + site.prefix + "\" is not an appc name prefix");
    return site;
}

std::string DiscoverySite::aci_template() const {
    return url + "/{name}-{version}-{os}-{arch}.{ext}";
}

void write_discovery_pages(const std::filesystem::path& dir, const DiscoverySite& site,
                           const Signer* signer) {
    if (signer) write_atomically(dir / kPubkeysFile, signer->export_public_key());
    std::error_code ec;
    const bool have_keys = std::filesystem::exists(dir / kPubkeysFile, ec);
    const std::vector<Listed> acis = list_acis(dir);

    std::string page;
    page += "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n";
    page += "<title>App Container Images: " + html(site.prefix) + "</title>\n";
    page += "<meta name=\"ac-discovery\" content=\"" + html(site.prefix) + " " +
            html(site.aci_template()) + "\">\n";
    if (have_keys) {
        page += "<meta name=\"ac-discovery-pubkeys\" content=\"" + html(site.prefix) + " " +
                html(site.url + "/" + kPubkeysFile) + "\">\n";
    }
    page += "</head>\n<body>\n<h1>App Container Images: " + html(site.prefix) + "</h1>\n";
    page += "<p>Images here are found by name through appc discovery.";
    std::string example = acis.empty() ? site.prefix + "/NAME:VERSION"
                                       : acis.front().name + ":" + acis.front().version;
    if (site.port) {
        // Names cannot carry the port: rkt would look on the default port and reach
        // whatever answers there. Say how the site is reached instead.
        const bool https = site.url.rfind("https://", 0) == 0;
        const std::string port = std::to_string(*site.port);
        page += " This site is served on port " + port +
                ", but appc names cannot hold a port: rkt and <code>actool discover</code> look "
                "for <code>" +
                html(site.prefix) + "</code> on port " + (https ? "443" : "80") +
                ". Serve this directory there as well (a reverse proxy from that port to this "
                "one) before using it with rkt; <code>actool discover --port " +
                port + "</code> finds an image here meanwhile:</p>\n<pre>actool discover" +
                (https ? "" : " --insecure") + " --port " + port + " " + html(example) +
                ",os=linux,arch=amd64</pre>\n";
    } else {
        if (have_keys) {
            page += " Trust the signing key once:</p>\n<pre>rkt trust --prefix " +
                    html(site.prefix) +
                    "</pre>\n<p>then fetch or run an image by name and version:</p>\n";
        } else {
            page +=
                " They are not signed: fetch them with "
                "<code>--insecure-options=image</code>:</p>\n";
        }
        page += "<pre>rkt fetch " + html(example) + "</pre>\n";
    }
    page +=
        "<table>\n<tr><th>image</th><th>version</th><th>platform</th><th>size</th>"
        "<th>signature</th></tr>\n";
    for (const auto& a : acis) {
        page += "<tr><td>" + html(a.name) + "</td><td>" + html(a.version) + "</td><td>" +
                html(a.os + "/" + a.arch) + "</td><td><a href=\"" + html(a.file) + "\">" +
                human_size(a.size) + "</a></td><td>" +
                (a.signed_ ? "<a href=\"" + html(a.file) + ".asc\">signed</a>" : "unsigned") +
                "</td></tr>\n";
    }
    page += "</table>\n<p>" + std::to_string(acis.size()) + " images.</p>\n</body>\n</html>\n";
    write_atomically(dir / "index.html", page);
}

}  // namespace d2a
