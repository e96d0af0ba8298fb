#include "image/config.hpp"

#include <nlohmann/json.hpp>

#include "util/error.hpp"
#include "util/json.hpp"

namespace d2a {

using nlohmann::json;

namespace {

std::string get_string(const json& obj, const char* key, const std::string& what) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return "";
    if (!it->is_string()) throw Error(what + ": \"" + key + "\" is not a string");
    return it->get<std::string>();
}

std::optional<std::vector<std::string>> get_string_list(const json& obj, const char* key,
                                                        const std::string& what,
                                                        bool allow_bare_string = false) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return std::nullopt;
    // Some old writers stored Entrypoint/Cmd as a bare string.
    if (allow_bare_string && it->is_string())
        return std::vector<std::string>{it->get<std::string>()};
    if (!it->is_array()) throw Error(what + ": \"" + key + "\" is not a list of strings");
    std::vector<std::string> out;
    for (const auto& v : *it) {
        if (!v.is_string()) throw Error(what + ": \"" + key + "\" is not a list of strings");
        out.push_back(v.get<std::string>());
    }
    return out;
}

std::vector<std::string> get_key_set(const json& obj, const char* key, const std::string& what) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return {};
    if (!it->is_object()) throw Error(what + ": \"" + key + "\" is not an object");
    std::vector<std::string> out;
    for (auto kv = it->begin(); kv != it->end(); ++kv) out.push_back(kv.key());
    return out;  // nlohmann::json objects iterate in key order
}

}  // namespace

ImageConfig ImageConfig::parse(std::string_view text, const std::string& what) {
    json doc = parse_untrusted_json(text, what);
    if (!doc.is_object()) throw Error(what + ": not a JSON object");
    ImageConfig c;
    c.os = get_string(doc, "os", what);
    c.architecture = get_string(doc, "architecture", what);
    c.variant = get_string(doc, "variant", what);
    c.author = get_string(doc, "author", what);
    c.created = get_string(doc, "created", what);
    auto cfg = doc.find("config");
    if (cfg != doc.end() && !cfg->is_null()) {
        if (!cfg->is_object()) throw Error(what + ": \"config\" is not an object");
        std::string inner = what + " config";
        c.entrypoint = get_string_list(*cfg, "Entrypoint", inner, true);
        c.cmd = get_string_list(*cfg, "Cmd", inner, true);
        c.env = get_string_list(*cfg, "Env", inner).value_or(std::vector<std::string>{});
        c.user = get_string(*cfg, "User", inner);
        c.working_dir = get_string(*cfg, "WorkingDir", inner);
        c.exposed_ports = get_key_set(*cfg, "ExposedPorts", inner);
        c.volumes = get_key_set(*cfg, "Volumes", inner);
        auto labels = cfg->find("Labels");
        if (labels != cfg->end() && !labels->is_null()) {
            if (!labels->is_object()) throw Error(inner + ": \"Labels\" is not an object");
            for (auto kv = labels->begin(); kv != labels->end(); ++kv) {
                if (!kv->is_string())
                    throw Error(inner + ": label \"" + kv.key() + "\" is not a string");
                c.labels[kv.key()] = kv->get<std::string>();
            }
        }
    }
    auto rootfs = doc.find("rootfs");
    if (rootfs != doc.end() && rootfs->is_object()) {
        c.has_rootfs = true;
        auto ids = rootfs->find("diff_ids");
        if (ids != rootfs->end() && !ids->is_null()) {
            if (!ids->is_array()) throw Error(what + ": rootfs.diff_ids is not a list");
            for (const auto& id : *ids) {
                if (!id.is_string()) throw Error(what + ": rootfs.diff_ids holds a non-string");
                c.diff_ids.push_back(with_context(what + ": rootfs.diff_ids", [&] {
                    return Digest::parse(id.get<std::string>());
                }));
            }
        }
    }
    return c;
}

}  // namespace d2a
