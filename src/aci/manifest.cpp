#include "aci/manifest.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "aci/naming.hpp"
#include "image/platform.hpp"
#include "util/error.hpp"
#include "util/path.hpp"

namespace d2a {

using nlohmann::json;

namespace {

constexpr const char* kAcVersion = "0.8.11";
const std::string kImageIdAnnotation = "appc.io/docker/imageid";
const std::string kManifestHashAnnotation = "appc.io/docker/manifesthash";

json name_value(const std::string& name, const std::string& value) {
    return json{{"name", name}, {"value", value}};
}

bool valid_env_name(const std::string& n) {
    if (n.empty()) return false;
    auto head = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
    if (!head(n[0])) return false;
    return std::all_of(n.begin(), n.end(), [&](char c) {
        return head(c) || (c >= '0' && c <= '9') || c == '.' || c == '-';
    });
}

uint64_t parse_port_number(const std::string& s, const std::string& spec) {
    if (s.empty() || s.size() > 5 || !std::all_of(s.begin(), s.end(), ::isdigit)) {
        throw Error("config: invalid exposed port \"" + spec + "\"");
    }
    uint64_t v = std::stoull(s);
    if (v == 0 || v > 65535) throw Error("config: exposed port \"" + spec + "\" is out of range");
    return v;
}

// RFC 3339 date-time, as appc requires for "created":
// YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM). Docker writes nanoseconds; some tools
// write other strings, which are left out rather than make the manifest invalid.
bool is_rfc3339(const std::string& s) {
    auto digits = [&](size_t at, size_t n) {
        if (at + n > s.size()) return false;
        for (size_t i = at; i < at + n; ++i) {
            if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
        }
        return true;
    };
    if (!(digits(0, 4) && s.size() > 19 && s[4] == '-' && digits(5, 2) && s[7] == '-' &&
          digits(8, 2) && (s[10] == 'T' || s[10] == 't') && digits(11, 2) && s[13] == ':' &&
          digits(14, 2) && s[16] == ':' && digits(17, 2))) {
        return false;
    }
    size_t i = 19;
    if (s[i] == '.') {
        size_t start = ++i;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
        if (i == start) return false;
    }
    if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) return i + 1 == s.size();
    return i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && digits(i + 1, 2) &&
           s[i + 3] == ':' && digits(i + 4, 2);
}

// appc's os/arch pairs (schema/types/labels.go): the labels and the file name carry them,
// and actool rejects anything else. Checked here so that no other value of an image's
// config reaches a file name.
void check_appc_os_arch(const std::string& os, std::string& arch,
                        const std::string& original_arch) {
    static const std::map<std::string, std::vector<std::string>> valid = {
        {"linux",
         {"amd64", "i386", "aarch64", "aarch64_be", "armv6l", "armv7l", "armv7b", "ppc64",
          "ppc64le", "s390x"}},
        {"freebsd", {"amd64", "i386", "arm"}},
        {"darwin", {"x86_64", "i386"}},
    };
    auto it = valid.find(os);
    if (it == valid.end()) {
        throw Error("image config: os \"" + os + "\"" +
                    " has no appc equivalent (appc knows linux, freebsd and darwin)");
    }
    if (os == "darwin" && arch == "amd64") arch = "x86_64";
    if (os == "freebsd" && arch.rfind("armv", 0) == 0) arch = "arm";
    if (std::find(it->second.begin(), it->second.end(), arch) == it->second.end()) {
        throw Error("image config: architecture \"" + original_arch + "\"" +
                    " has no appc equivalent for " + os);
    }
}

}  // namespace

AciNaming aci_naming(const Image& image, const std::string& name_prefix) {
    AciNaming n;
    std::string path;
    if (image.reference) {
        const Reference& r = *image.reference;
        if (image.source_kind == SourceKind::registry) {
            n.name = r.registry() + "/" + r.repository();
            path = r.repository();
        } else {
            n.name = r.name();
            path = r.path;
        }
        n.version = r.tag.empty() ? (r.digest.empty() ? "latest" : "") : r.tag;
    } else {
        n.name = image.fallback_name;
        path = image.fallback_name;
    }
    n.name = sanitize_ac_identifier(n.name);
    if (n.name.empty()) throw Error("cannot derive an appc image name from the image reference");
    n.os = image.config.os.empty() ? "linux" : image.config.os;
    n.arch = appc_arch(image.config.architecture.empty() ? "amd64" : image.config.architecture,
                       image.config.variant);
    check_appc_os_arch(n.os, n.arch, image.config.architecture);
    n.file_stem = sanitize_ac_identifier(path);
    if (!name_prefix.empty()) {
        n.name = name_prefix + "/" + n.name;
        n.file_stem = n.name;
        n.nested = true;
    }
    n.file_name = aci_file_name(n.file_stem, n.version, n.os, n.arch, n.nested);
    return n;
}

UserGroup map_user(const std::string& docker_user, const std::optional<std::string>& passwd) {
    if (docker_user.empty()) return {"0", "0"};
    auto colon = docker_user.find(':');
    if (colon != std::string::npos) {
        std::string u = docker_user.substr(0, colon);
        std::string g = docker_user.substr(colon + 1);
        return {u.empty() ? "0" : u, g.empty() ? "0" : g};
    }
    // No group: the user's primary group, as Docker resolves it from the image's passwd.
    if (passwd) {
        size_t pos = 0;
        while (pos < passwd->size()) {
            size_t end = passwd->find('\n', pos);
            if (end == std::string::npos) end = passwd->size();
            std::string line = passwd->substr(pos, end - pos);
            pos = end + 1;
            std::vector<std::string> f;
            size_t i = 0;
            while (f.size() < 7) {
                size_t c = line.find(':', i);
                f.push_back(line.substr(i, c == std::string::npos ? std::string::npos : c - i));
                if (c == std::string::npos) break;
                i = c + 1;
            }
            if (f.size() < 4) continue;
            if (f[0] == docker_user || f[2] == docker_user) return {docker_user, f[3]};
        }
    }
    return {docker_user, "0"};
}

json map_ports(const std::vector<std::string>& exposed_ports) {
    std::vector<json> ports;
    std::set<std::string> names;
    for (const auto& spec : exposed_ports) {
        std::string number = spec;
        std::string proto = "tcp";
        if (auto slash = spec.find('/'); slash != std::string::npos) {
            number = spec.substr(0, slash);
            proto = spec.substr(slash + 1);
        }
        if (proto != "tcp" && proto != "udp" && proto != "sctp") {
            throw Error("config: exposed port \"" + spec + "\" has unknown protocol");
        }
        uint64_t port = 0;
        uint64_t count = 1;
        if (auto dash = number.find('-'); dash != std::string::npos) {
            port = parse_port_number(number.substr(0, dash), spec);
            uint64_t last = parse_port_number(number.substr(dash + 1), spec);
            if (last < port) throw Error("config: exposed port range \"" + spec + "\" is reversed");
            count = last - port + 1;
        } else {
            port = parse_port_number(number, spec);
        }
        std::string name = sanitize_ac_name(number + "-" + proto);
        if (!names.insert(name).second) continue;
        ports.push_back(json{{"name", name},
                             {"protocol", proto},
                             {"port", port},
                             {"count", count},
                             {"socketActivated", false}});
    }
    std::sort(ports.begin(), ports.end(), [](const json& a, const json& b) {
        return a["name"].get<std::string>() < b["name"].get<std::string>();
    });
    return json(ports);
}

json map_volumes(const std::vector<std::string>& volumes) {
    std::vector<std::string> paths;
    for (const auto& v : volumes) {
        std::string p = v.empty() || v[0] != '/' ? "/" + v : v;
        // Normalise and refuse paths that leave the root.
        std::vector<std::string> parts;
        for_each_component(p, [&](std::string_view part) {
            if (part == "..") throw Error("config: volume \"" + v + "\" leaves the root");
            if (!part.empty() && part != ".") parts.emplace_back(part);
        });
        std::string norm;
        for (const auto& part : parts) norm += "/" + part;
        paths.push_back(norm.empty() ? "/" : norm);
    }
    std::sort(paths.begin(), paths.end());
    paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
    json out = json::array();
    std::set<std::string> taken;
    for (const auto& p : paths) {
        std::string base = sanitize_ac_name("volume" + p);
        std::string name = base;
        for (int n = 1; taken.count(name); ++n) name = base + "-" + std::to_string(n);
        taken.insert(name);
        out.push_back(json{{"name", name}, {"path", p}, {"readOnly", false}});
    }
    return out;
}

json map_environment(const std::vector<std::string>& env) {
    // Later definitions win, as in Docker; order of first appearance is kept.
    std::vector<std::string> order;
    std::map<std::string, std::string> values;
    for (const auto& kv : env) {
        auto eq = kv.find('=');
        if (eq == std::string::npos) continue;  // "NAME" alone sets nothing in Docker either
        std::string name = kv.substr(0, eq);
        if (!valid_env_name(name)) {
            throw Error("config: environment variable name \"" + name +
                        "\" is not allowed by appc");
        }
        if (!values.count(name)) order.push_back(name);
        values[name] = kv.substr(eq + 1);
    }
    json out = json::array();
    for (const auto& n : order) out.push_back(name_value(n, values[n]));
    return out;
}

json build_manifest(const ManifestInputs& in) {
    const Image& image = *in.image;
    const ImageConfig& c = image.config;
    AciNaming naming = aci_naming(image, in.name_prefix);

    json m;
    m["acKind"] = "ImageManifest";
    m["acVersion"] = kAcVersion;
    m["name"] = naming.name;

    std::map<std::string, std::string> labels;
    if (!naming.version.empty()) labels["version"] = naming.version;
    labels["os"] = naming.os;
    labels["arch"] = naming.arch;
    json label_list = json::array();
    for (const auto& [k, v] : labels) label_list.push_back(name_value(k, v));
    m["labels"] = label_list;

    json app;
    std::vector<std::string> exec = c.entrypoint.value_or(std::vector<std::string>{});
    if (c.cmd) exec.insert(exec.end(), c.cmd->begin(), c.cmd->end());
    if (!exec.empty()) app["exec"] = exec;
    UserGroup ug = map_user(c.user, in.passwd);
    app["user"] = ug.user;
    app["group"] = ug.group;
    if (!c.working_dir.empty()) {
        app["workingDirectory"] = c.working_dir[0] == '/' ? c.working_dir : "/" + c.working_dir;
    }
    json env = map_environment(c.env);
    if (!env.empty()) app["environment"] = env;
    json mounts = map_volumes(c.volumes);
    if (!mounts.empty()) app["mountPoints"] = mounts;
    json ports = map_ports(c.exposed_ports);
    if (!ports.empty()) app["ports"] = ports;
    if (!c.labels.empty()) app["userLabels"] = c.labels;
    m["app"] = app;

    std::map<std::string, std::string> ann;
    if (!c.author.empty()) ann["authors"] = c.author;
    if (is_rfc3339(c.created)) ann["created"] = c.created;
    const std::string p = "appc.io/docker/";
    if (image.reference) {
        const Reference& r = *image.reference;
        ann[p + "originalname"] = r.original;
        ann[p + "registryurl"] = r.registry();
        ann[p + "repository"] = r.repository();
        if (!r.tag.empty() || r.digest.empty()) ann[p + "tag"] = r.tag_or_latest();
    }
    ann[kImageIdAnnotation] = image.image_id;
    if (image.manifest_digest) ann[kManifestHashAnnotation] = *image.manifest_digest;
    if (c.entrypoint && !c.entrypoint->empty()) ann[p + "entrypoint"] = json(*c.entrypoint).dump();
    if (c.cmd && !c.cmd->empty()) ann[p + "cmd"] = json(*c.cmd).dump();
    json ann_list = json::array();
    for (const auto& [k, v] : ann) ann_list.push_back(name_value(k, v));
    m["annotations"] = ann_list;
    return m;
}

bool made_from(const nlohmann::json& manifest, const Image& image) {
    if (!manifest.is_object() || !manifest.contains("annotations") ||
        !manifest["annotations"].is_array()) {
        return false;
    }
    // The manifest digest names what was pulled exactly; without one (docker save), the
    // config digest names the image.
    const std::string& key = image.manifest_digest ? kManifestHashAnnotation : kImageIdAnnotation;
    const std::string& want = image.manifest_digest ? *image.manifest_digest : image.image_id;
    for (const auto& a : manifest["annotations"]) {
        if (a.is_object() && a.value("name", json()) == key && a.value("value", json()) == want)
            return true;
    }
    return false;
}

namespace {

std::string canonical_or_as_written(const std::string& text) {
    try {
        return Reference::parse(text).canonical();
    } catch (const Error&) {  // not a reference we read: compared as written
        return text;
    }
}

}  // namespace

std::string source_of(const nlohmann::json& manifest) {
    if (!manifest.is_object() || !manifest.contains("annotations") ||
        !manifest["annotations"].is_array()) {
        return "";
    }
    for (const auto& a : manifest["annotations"]) {
        if (a.is_object() && a.value("name", json()) == "appc.io/docker/originalname" &&
            a.contains("value") && a["value"].is_string()) {
            return canonical_or_as_written(a["value"].get<std::string>());
        }
    }
    return "";
}

std::string source_of(const Image& image) {
    return image.reference ? canonical_or_as_written(image.reference->original) : "";
}

}  // namespace d2a
