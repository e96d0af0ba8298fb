#include "registry/auth.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "util/error.hpp"
#include "util/process.hpp"
#include "util/file.hpp"
#include "util/json.hpp"

namespace d2a {

using nlohmann::json;

namespace {

bool is_token_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

void skip_space(std::string_view s, size_t& i) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), ::tolower);
    return s;
}

}  // namespace

std::vector<Challenge> parse_www_authenticate(std::string_view s) {
    std::vector<Challenge> out;
    size_t i = 0;
    while (i < s.size()) {
        skip_space(s, i);
        while (i < s.size() && s[i] == ',') {
            ++i;
            skip_space(s, i);
        }
        size_t start = i;
        while (i < s.size() && is_token_char(s[i])) ++i;
        if (i == start) break;
        std::string token(s.substr(start, i - start));
        skip_space(s, i);
        // A parameter (name=value) continues the current challenge; a bare token starts one.
        if (i < s.size() && s[i] == '=' && !out.empty()) {
            ++i;
            skip_space(s, i);
            std::string value;
            if (i < s.size() && s[i] == '"') {
                ++i;
                while (i < s.size() && s[i] != '"') {
                    if (s[i] == '\\' && i + 1 < s.size()) ++i;
                    value += s[i++];
                }
                if (i < s.size()) ++i;  // closing quote
            } else {
                size_t vstart = i;
                while (i < s.size() && s[i] != ',' && s[i] != ' ') ++i;
                value = std::string(s.substr(vstart, i - vstart));
            }
            out.back().params[lower(token)] = value;
            skip_space(s, i);
            if (i < s.size() && s[i] == ',') ++i;
            continue;
        }
        Challenge c;
        c.scheme = lower(token);
        out.push_back(std::move(c));
    }
    return out;
}

std::string base64_encode(std::string_view in) {
    static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    size_t i = 0;
    while (i + 2 < in.size()) {
        uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
        out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], t[v & 63]};
        i += 3;
    }
    if (i + 1 == in.size()) {
        uint32_t v = uint8_t(in[i]) << 16;
        out += {t[v >> 18], t[(v >> 12) & 63], '=', '='};
    } else if (i + 2 == in.size()) {
        uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
        out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], '='};
    }
    return out;
}

std::string base64_decode(std::string_view in) {
    auto val = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '+' || c == '-') return 62;
        if (c == '/' || c == '_') return 63;
        return -1;
    };
    std::string out;
    uint32_t acc = 0;
    int bits = 0;
    for (char c : in) {
        if (c == '=' || c == '\n' || c == '\r') continue;
        int v = val(c);
        if (v < 0) throw Error("invalid base64 in credentials");
        acc = (acc << 6) | static_cast<uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xff);
        }
    }
    return out;
}

std::optional<Credentials> credentials_from_helper(const std::string& helper,
                                                   const std::string& server) {
    std::string program = "docker-credential-" + helper;
    ProcessResult helper_run = run_process({program, "get"}, server + "\n");
    if (!helper_run.ran) throw Error("credential helper " + program + " could not be run");
    if (helper_run.exit_status != 0) return std::nullopt;  // "credentials not found"
    const std::string& output = helper_run.output;
    json j = parse_untrusted_json(output, "credential helper " + program);
    if (!j.is_object()) throw Error("credential helper " + program + " returned no JSON object");
    auto field = [&](const char* key) {
        return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
    };
    Credentials c{field("Username"), field("Secret"), ""};
    if (c.username.empty() && c.password.empty()) return std::nullopt;
    // The docker CLI convention for an identity token kept by a helper.
    if (c.username == "<token>") return Credentials{"", "", c.password};
    return c;
}

namespace {

constexpr size_t kMaxConfigFileBytes = 16 << 20;

std::optional<json> load_json_file(const std::string& path) {
    auto text = read_file_if_present(path, kMaxConfigFileBytes);
    if (!text) return std::nullopt;
    return parse_untrusted_json(*text, path);
}

// The keys a registry may be stored under in auths/credHelpers.
std::vector<std::string> config_keys(const std::string& registry) {
    std::vector<std::string> keys = {registry, "https://" + registry, "http://" + registry,
                                     "https://" + registry + "/v1/",
                                     "https://" + registry + "/v2/"};
    if (registry == "registry-1.docker.io") {
        for (const char* k : {"https://index.docker.io/v1/", "index.docker.io", "docker.io",
                              "https://index.docker.io/v1", "registry-1.docker.io"}) {
            keys.emplace_back(k);
        }
    }
    return keys;
}

std::optional<Credentials> from_auths(const json& config, const std::string& registry) {
    auto auths = config.find("auths");
    if (auths == config.end() || !auths->is_object()) return std::nullopt;
    for (const auto& key : config_keys(registry)) {
        auto e = auths->find(key);
        if (e == auths->end() || !e->is_object()) continue;
        auto text = [&](const char* field) {
            auto f = e->find(field);
            return f != e->end() && f->is_string() ? f->get<std::string>() : std::string();
        };
        Credentials c{text("username"), text("password"), text("identitytoken")};
        if (std::string auth = text("auth"); !auth.empty()) {
            std::string decoded = base64_decode(auth);
            auto colon = decoded.find(':');
            if (colon == std::string::npos)
                throw Error("credentials for " + registry + " are malformed");
            c.username = decoded.substr(0, colon);
            c.password = decoded.substr(colon + 1);
        }
        if (!c.identity_token.empty()) c.password.clear();  // docker stores none with one
        if (!c.username.empty() || !c.password.empty() || !c.identity_token.empty()) return c;
    }
    return std::nullopt;
}

std::string helper_server(const std::string& registry) {
    return registry == "registry-1.docker.io" ? "https://index.docker.io/v1/" : registry;
}

}  // namespace

std::optional<Credentials> find_credentials(const std::string& registry,
                                            const CredentialOptions& options) {
    if (options.username) return Credentials{*options.username, options.password.value_or(""), ""};
    if (const char* f = std::getenv("REGISTRY_AUTH_FILE"); f && *f) {
        if (auto j = load_json_file(f)) {
            if (auto c = from_auths(*j, registry)) return c;
        }
    }
    std::string path;
    if (const char* d = std::getenv("DOCKER_CONFIG"); d && *d) {
        path = std::string(d) + "/config.json";
    } else if (const char* h = std::getenv("HOME"); h && *h) {
        path = std::string(h) + "/.docker/config.json";
    }
    if (path.empty()) return std::nullopt;
    auto config = load_json_file(path);
    if (!config || !config->is_object()) return std::nullopt;
    if (auto helpers = config->find("credHelpers");
        helpers != config->end() && helpers->is_object()) {
        for (const auto& key : config_keys(registry)) {
            auto h = helpers->find(key);
            if (h != helpers->end() && h->is_string()) {
                return credentials_from_helper(h->get<std::string>(), helper_server(registry));
            }
        }
    }
    if (auto c = from_auths(*config, registry)) return c;
    if (auto store = config->find("credsStore"); store != config->end() && store->is_string()) {
        return credentials_from_helper(store->get<std::string>(), helper_server(registry));
    }
    return std::nullopt;
}

}  // namespace d2a
