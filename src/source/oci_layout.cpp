// OCI image layouts: index.json -> (nested indexes) -> manifest -> config and layers.
#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "source/source.hpp"
#include "util/error.hpp"

namespace d2a {

using nlohmann::json;

namespace {

constexpr int kMaxIndexDepth = 4;

const std::set<std::string>& index_types() {
    static const std::set<std::string> t = {
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json"};
    return t;
}
const std::set<std::string>& manifest_types() {
    static const std::set<std::string> t = {"application/vnd.oci.image.manifest.v1+json",
                                            "application/vnd.docker.distribution.manifest.v2+json"};
    return t;
}
const std::set<std::string>& layer_types() {
    static const std::set<std::string> t = {
        "application/vnd.oci.image.layer.v1.tar",
        "application/vnd.oci.image.layer.v1.tar+gzip",
        "application/vnd.oci.image.layer.v1.tar+zstd",
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
        "application/vnd.docker.image.rootfs.diff.tar",
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"};
    return t;
}

struct Descriptor {
    std::string media_type;
    Digest digest;
    uint64_t size = 0;
    std::optional<Platform> platform;
    std::map<std::string, std::string> annotations;
};

Descriptor parse_descriptor(const json& d, const std::string& what) {
    if (!d.is_object()) throw Error(what + ": descriptor is not an object");
    Descriptor out;
    if (d.contains("mediaType") && d["mediaType"].is_string()) out.media_type = d["mediaType"];
    if (!d.contains("digest") || !d["digest"].is_string())
        throw Error(what + ": descriptor without digest");
    out.digest = with_context(what, [&] { return Digest::parse(d["digest"].get<std::string>()); });
    if (d.contains("size")) {
        if (!d["size"].is_number_unsigned()) throw Error(what + ": descriptor size is not a count");
        out.size = d["size"].get<uint64_t>();
    }
    if (d.contains("platform") && d["platform"].is_object()) {
        const json& p = d["platform"];
        Platform pl;
        pl.os = p.value("os", "");
        pl.architecture = p.value("architecture", "");
        pl.variant = p.value("variant", "");
        out.platform = pl;
    }
    if (d.contains("annotations") && d["annotations"].is_object()) {
        for (auto kv = d["annotations"].begin(); kv != d["annotations"].end(); ++kv) {
            if (kv->is_string()) out.annotations[kv.key()] = kv->get<std::string>();
        }
    }
    return out;
}

std::string read_blob(const Bundle& bundle, const Descriptor& d, const Limits& limits,
                      const std::string& what) {
    if (d.size > limits.max_metadata_bytes) {
        throw Error(what + " " + d.digest.str() + " is " + std::to_string(d.size) +
                    " bytes, over the limit of " + std::to_string(limits.max_metadata_bytes));
    }
    std::string path = blob_path(d.digest);
    if (!bundle.exists(path))
        throw Error(bundle.describe() + ": " + what + " blob " + path + " is missing");
    std::string text = bundle.read_file(path, limits.max_metadata_bytes);
    Digest actual = Digest::of(text, d.digest.algorithm);
    if (!(actual == d.digest)) {
        throw Error(bundle.describe() + ": " + what + " " + path +
                    " does not match its digest (got " + actual.str() + ")");
    }
    if (d.size && text.size() != d.size) {
        throw Error(bundle.describe() + ": " + what + " " + path + " size mismatch");
    }
    return text;
}

std::vector<Descriptor> manifests_of(const json& index, const std::string& what) {
    if (!index.is_object()) throw Error(what + ": not a JSON object");
    if (index.contains("layers") || index.contains("config")) {
        throw Error(what + ": is both an index and a manifest");
    }
    auto it = index.find("manifests");
    if (it == index.end() || !it->is_array()) throw Error(what + ": no manifests list");
    std::vector<Descriptor> out;
    for (const auto& d : *it) out.push_back(parse_descriptor(d, what));
    return out;
}

bool is_attestation(const Descriptor& d) {
    return (d.platform && d.platform->os == "unknown") ||
           d.annotations.count("vnd.docker.reference.type");
}

}  // namespace

json parse_metadata_json(const std::string& text, const std::string& what) {
    try {
        return json::parse(text);
    } catch (const json::exception& e) {
        throw Error(what + ": invalid JSON (" + std::string(e.what()) + ")");
    }
}

void check_layer_count(const ImageConfig& config, size_t layers, const std::string& where) {
    if (config.has_rootfs && config.diff_ids.size() != layers) {
        throw Error(where + " lists " + std::to_string(layers) + " layers but the config has " +
                    std::to_string(config.diff_ids.size()) + " diff_ids");
    }
}

std::string blob_path(const Digest& digest) {
    return "blobs/" + digest.algorithm_name() + "/" + digest.hex;
}

std::optional<std::string> find_manifest_digest(const Bundle& bundle, const Digest& config,
                                                const Limits& limits) {
    if (!bundle.exists("index.json")) return std::nullopt;
    try {
        std::vector<std::pair<Descriptor, int>> todo;
        json top = parse_metadata_json(bundle.read_file("index.json", limits.max_metadata_bytes),
                                       "index.json");
        for (auto& d : manifests_of(top, "index.json")) todo.emplace_back(d, 0);
        while (!todo.empty()) {
            auto [d, depth] = todo.back();
            todo.pop_back();
            if (!bundle.exists(blob_path(d.digest))) continue;  // other platforms may be absent
            json doc =
                parse_metadata_json(read_blob(bundle, d, limits, "manifest"), d.digest.str());
            if (doc.contains("manifests")) {
                if (depth >= kMaxIndexDepth) continue;
                for (auto& inner : manifests_of(doc, d.digest.str()))
                    todo.emplace_back(inner, depth + 1);
                continue;
            }
            if (doc.contains("config") && doc["config"].is_object() &&
                doc["config"].value("digest", "") == config.str()) {
                return d.digest.str();
            }
        }
    } catch (const Error&) {
        // The index only names the manifest digest; manifest.json is authoritative.
    }
    return std::nullopt;
}

Image load_oci_layout(const std::shared_ptr<const Bundle>& bundle, const SourceOptions& options,
                      const std::string& fallback_name) {
    const std::string where = bundle->describe();
    const Limits& limits = options.limits;
    json top = parse_metadata_json(bundle->read_file("index.json", limits.max_metadata_bytes),
                                   where + ": index.json");
    std::vector<Descriptor> tops = manifests_of(top, where + ": index.json");

    // Each top-level entry's name: io.containerd.image.name, or ref.name, which is either
    // a full reference or (skopeo, umoci, buildah) just a tag of the layout itself.
    auto name_of = [&](const Descriptor& d) -> std::optional<Reference> {
        auto full = d.annotations.find("io.containerd.image.name");
        auto ref = d.annotations.find("org.opencontainers.image.ref.name");
        try {
            // containerd stores fully qualified names; docker save users know the short one.
            if (full != d.annotations.end()) return Reference::parse(full->second).familiar();
            if (ref == d.annotations.end()) return std::nullopt;
            if (ref->second.find_first_of("/:@") == std::string::npos) {
                return Reference::parse(fallback_name + ":" + ref->second);
            }
            return Reference::parse(ref->second);
        } catch (const Error&) {
            return std::nullopt;
        }
    };
    auto ref_name = [](const Descriptor& d) {
        auto r = d.annotations.find("org.opencontainers.image.ref.name");
        return r == d.annotations.end() ? std::string() : r->second;
    };
    std::vector<Descriptor> chosen;
    std::optional<Reference> reference;
    if (options.image) {
        std::optional<std::string> want_canonical;
        try {
            want_canonical = Reference::parse(*options.image).canonical();
        } catch (const Error&) {
        }
        for (const auto& d : tops) {
            auto name = name_of(d);
            bool hit = ref_name(d) == *options.image ||
                       (name && want_canonical && name->canonical() == *want_canonical);
            if (!hit) continue;
            chosen.push_back(d);
            if (!reference) reference = name;
        }
        if (chosen.empty()) {
            std::string list;
            for (const auto& d : tops) {
                if (!ref_name(d).empty()) list += (list.empty() ? "" : ", ") + ref_name(d);
            }
            throw Error("image " + *options.image + " not found in " + where +
                        (list.empty() ? "" : "; it holds: " + list));
        }
    } else {
        std::set<std::string> names;
        for (const auto& d : tops) {
            if (is_attestation(d)) continue;
            chosen.push_back(d);
            auto name = name_of(d);
            names.insert(name ? name->canonical() : d.digest.str());
        }
        if (names.size() > 1) {
            std::string list;
            for (const auto& d : chosen)
                list += (list.empty() ? "" : ", ") +
                        (ref_name(d).empty() ? d.digest.str() : ref_name(d));
            throw Error(where + " holds " + std::to_string(names.size()) +
                        " images; pick one with --image: " + list);
        }
        if (!chosen.empty()) reference = name_of(chosen.front());
    }
    if (chosen.empty()) throw Error(where + ": holds no image");

    // Walk indexes down to one manifest for the requested platform.
    std::optional<Descriptor> manifest;
    std::vector<Descriptor> level = chosen;
    for (int depth = 0; depth <= kMaxIndexDepth && !manifest; ++depth) {
        std::vector<Descriptor> next;
        std::vector<std::string> seen_platforms;
        for (const auto& d : level) {
            if (is_attestation(d)) continue;
            if (d.platform) {
                seen_platforms.push_back(d.platform->str());
                if (!options.platform.matches(*d.platform)) continue;
            }
            if (index_types().count(d.media_type) ||
                (d.media_type.empty() && bundle->exists(blob_path(d.digest)) &&
                 parse_metadata_json(read_blob(*bundle, d, limits, "index"), d.digest.str())
                     .contains("manifests"))) {
                json inner =
                    parse_metadata_json(read_blob(*bundle, d, limits, "index"), d.digest.str());
                for (auto& m : manifests_of(inner, where + ": index " + d.digest.str()))
                    next.push_back(m);
                continue;
            }
            manifest = d;
            break;
        }
        if (!manifest && next.empty()) {
            std::string list;
            for (const auto& p : seen_platforms) list += (list.empty() ? "" : ", ") + p;
            throw Error(where + ": no image for platform " + options.platform.str() +
                        (list.empty() ? "" : " (available: " + list + ")"));
        }
        level = std::move(next);
    }
    if (!manifest) throw Error(where + ": indexes nested too deeply");

    json doc = parse_metadata_json(read_blob(*bundle, *manifest, limits, "manifest"),
                                   where + ": manifest " + manifest->digest.str());
    if (!doc.is_object() || !doc.contains("config") || !doc.contains("layers") ||
        !doc["layers"].is_array()) {
        throw Error(where + ": manifest " + manifest->digest.str() + " lacks config or layers");
    }
    if (doc.contains("manifests")) {
        throw Error(where + ": manifest " + manifest->digest.str() +
                    " is both an index and a manifest");
    }
    if (!manifest->media_type.empty() && !manifest_types().count(manifest->media_type)) {
        throw Error(where + ": unsupported manifest media type " + manifest->media_type);
    }
    Descriptor config = parse_descriptor(doc["config"], where + ": manifest config");
    std::string config_text = read_blob(*bundle, config, limits, "config");

    Image image;
    image.source_kind = "oci-layout";
    image.fallback_name = fallback_name;
    image.reference = reference;
    image.manifest_digest = manifest->digest.str();
    image.image_id = config.digest.str();
    image.config = ImageConfig::parse(config_text, where + ": config " + config.digest.str());
    const json& layers = doc["layers"];
    check_layer_count(image.config, layers.size(), where + ": manifest " + manifest->digest.str());
    for (size_t i = 0; i < layers.size(); ++i) {
        Descriptor d = parse_descriptor(layers[i], where + ": layer " + std::to_string(i + 1));
        if (!d.media_type.empty() && !layer_types().count(d.media_type)) {
            throw Error(where + ": layer " + d.digest.str() + " has unsupported media type " +
                        d.media_type);
        }
        std::string path = blob_path(d.digest);
        if (!bundle->exists(path)) throw Error(where + ": layer blob " + path + " is missing");
        LayerSource layer;
        layer.description = path;
        layer.blob_digest = d.digest;
        layer.blob_size = d.size ? std::optional<uint64_t>(d.size) : std::nullopt;
        if (i < image.config.diff_ids.size()) layer.diff_id = image.config.diff_ids[i];
        auto b = bundle;
        layer.open_blob = [b, path] { return b->open(path); };
        image.layers.push_back(std::move(layer));
    }
    return image;
}

}  // namespace d2a
