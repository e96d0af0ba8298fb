// docker save archives, every generation:
// - legacy (Docker < 1.10): repositories + <id>/json + <id>/layer.tar, parent chains;
// - manifest.json (Docker 1.10-24, skopeo, podman, buildah): layers as <id>/layer.tar,
//   often symlinks to a shared file, or <diffid>.tar;
// - Docker 25+ and the containerd store: manifest.json pointing into an OCI layout's
//   blobs/sha256/, layers possibly gzip-compressed.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "source/common.hpp"
#include "source/docker_archive.hpp"
#include "source/oci_layout.hpp"
#include "source/options.hpp"
#include "util/error.hpp"

namespace d2a {

using nlohmann::json;

namespace {

// The digest a content-addressed member name carries: blobs/sha256/<hex>, <hex>.json,
// <hex>.tar, <hex>/layer.tar.
std::optional<Digest> digest_from_name(const std::string& path) {
    if (path.rfind("blobs/", 0) == 0) {
        std::string rest = path.substr(6);
        auto slash = rest.find('/');
        if (slash != std::string::npos) {
            return Digest::try_parse(rest.substr(0, slash) + ":" + rest.substr(slash + 1));
        }
        return std::nullopt;
    }
    if (path.size() == 64 + 5 && path.compare(64, 5, ".json") == 0) {
        return Digest::try_parse("sha256:" + path.substr(0, 64));
    }
    return std::nullopt;
}

ImageCandidate::Name tag_name(const std::string& tag, const std::string& where) {
    return {tag, with_context(where, [&] { return Reference::parse(tag); })};
}

std::string untagged(const std::string& id) {
    return "<untagged " + id.substr(0, 19) + ">";
}

LayerSource layer_from_member(const std::shared_ptr<const Bundle>& bundle,
                              const std::string& member) {
    LayerSource layer;
    std::string resolved = bundle->resolve(member);
    if (!bundle->exists(resolved)) {
        throw Error(bundle->describe() + ": layer " + member + " is missing");
    }
    layer.description = member;
    layer.blob_digest = digest_from_name(resolved);
    layer.blob_size = bundle->size(resolved);
    layer.open_blob = [bundle, resolved] { return bundle->open(resolved); };
    return layer;
}

Image load_manifest_json(const std::shared_ptr<const Bundle>& bundle, const SourceOptions& options,
                         const Limits& limits,
                         const std::string& fallback_name) {
    const std::string where = bundle->describe();
    json doc =
        parse_metadata_json(bundle->read_file("manifest.json", limits.max_metadata_bytes),
                            where + ": manifest.json");
    if (!doc.is_array()) throw Error(where + ": manifest.json is not a list");
    std::vector<ImageCandidate> candidates;
    for (size_t i = 0; i < doc.size(); ++i) {
        const json& e = doc[i];
        if (!e.is_object() || !e.contains("Config") || !e["Config"].is_string() ||
            !e.contains("Layers") || !e["Layers"].is_array()) {
            throw Error(where + ": manifest.json entry " + std::to_string(i + 1) +
                        " lacks Config or Layers");
        }
        ImageCandidate c;
        if (e.contains("RepoTags") && e["RepoTags"].is_array()) {
            for (const auto& t : e["RepoTags"]) {
                if (!t.is_string()) throw Error(where + ": manifest.json has a non-string tag");
                c.names.push_back(tag_name(t.get<std::string>(), where + ": manifest.json"));
            }
        }
        c.unnamed = untagged(e["Config"].get<std::string>());
        candidates.push_back(std::move(c));
    }
    const ImageSelection chosen = select_image(candidates, options.image, where);
    const json& entry = doc[chosen.indexes.front()];

    Image image;
    image.source_kind = SourceKind::docker_archive;
    image.fallback_name = fallback_name;
    image.reference = chosen.reference;

    std::string config_member = bundle->resolve(entry["Config"].get<std::string>());
    std::string config_text = bundle->read_file(config_member, limits.max_metadata_bytes);
    Digest config_digest = Digest::of(config_text);
    if (auto named = digest_from_name(config_member); named && !(*named == config_digest)) {
        throw Error(where + ": config " + config_member + " does not match its digest (got " +
                    config_digest.str() + ")");
    }
    image.image_id = config_digest.str();
    image.config = ImageConfig::parse(config_text, where + ": config " + config_member);

    const json& layers = entry["Layers"];
    check_layer_count(image.config, layers.size(), where + ": manifest.json");
    for (size_t i = 0; i < layers.size(); ++i) {
        if (!layers[i].is_string()) throw Error(where + ": manifest.json has a non-string layer");
        LayerSource layer = layer_from_member(bundle, layers[i].get<std::string>());
        if (i < image.config.diff_ids.size()) layer.diff_id = image.config.diff_ids[i];
        image.layers.push_back(std::move(layer));
    }
    image.manifest_digest = find_manifest_digest(*bundle, config_digest, limits);
    return image;
}

bool is_legacy_id(const std::string& id) {
    return id.size() == 64 && std::all_of(id.begin(), id.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

Image load_legacy(const std::shared_ptr<const Bundle>& bundle, const SourceOptions& options,
                  const Limits& limits,
                  const std::string& fallback_name) {
    const std::string where = bundle->describe();
    json repos =
        parse_metadata_json(bundle->read_file("repositories", limits.max_metadata_bytes),
                            where + ": repositories");
    if (!repos.is_object()) throw Error(where + ": repositories is not an object");
    // One candidate per image id, with every tag that names it.
    std::vector<ImageCandidate> candidates;
    std::vector<std::string> ids;  // of the candidates
    for (auto r = repos.begin(); r != repos.end(); ++r) {
        if (!r->is_object())
            throw Error(where + ": repositories entry " + r.key() + " is not an object");
        for (auto t = r->begin(); t != r->end(); ++t) {
            if (!t->is_string() || !is_legacy_id(t->get<std::string>())) {
                throw Error(where + ": repositories: " + r.key() + ":" + t.key() +
                            " has an invalid image id");
            }
            const ImageCandidate::Name name =
                tag_name(r.key() + ":" + t.key(), where + ": repositories");
            std::string id = t->get<std::string>();
            auto it = std::find(ids.begin(), ids.end(), id);
            if (it == ids.end()) {
                ids.push_back(id);
                candidates.push_back({{}, untagged(id)});
                it = ids.end() - 1;
            }
            candidates[static_cast<size_t>(it - ids.begin())].names.push_back(name);
        }
    }
    const ImageSelection chosen = select_image(candidates, options.image, where);
    Image image;
    image.source_kind = SourceKind::docker_archive;
    image.fallback_name = fallback_name;
    image.reference = chosen.reference;
    std::string top = ids[chosen.indexes.front()];
    image.image_id = top;

    std::vector<std::string> chain;
    std::set<std::string> seen;
    std::string top_json;
    for (std::string id = top; !id.empty();) {
        if (!is_legacy_id(id))
            throw Error(where + ": invalid parent id \"" + id.substr(0, 80) + "\"");
        if (!seen.insert(id).second) throw Error(where + ": parent chain loops at layer " + id);
        std::string text = bundle->read_file(id + "/json", limits.max_metadata_bytes);
        if (chain.empty()) top_json = text;
        json j = parse_metadata_json(text, where + ": " + id + "/json");
        chain.push_back(id);
        auto parent = j.find("parent");
        id = (parent != j.end() && parent->is_string()) ? parent->get<std::string>() : "";
    }
    image.config = ImageConfig::parse(top_json, where + ": " + top + "/json");
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
        std::string member = *it + "/layer.tar";
        image.layers.push_back(layer_from_member(bundle, member));
    }
    return image;
}

}  // namespace

Image load_docker_archive(const std::shared_ptr<const Bundle>& bundle, const SourceOptions& options,
                          const Limits& limits, const std::string& fallback_name) {
    if (bundle->exists("manifest.json"))
        return load_manifest_json(bundle, options, limits, fallback_name);
    return load_legacy(bundle, options, limits, fallback_name);
}

}  // namespace d2a
