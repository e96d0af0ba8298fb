// docker save archives, every generation:
// - legacy (Docker < 1.10): repositories + <id>/json + <id>/layer.tar, parent chains;
// - manifest.json (Docker 1.10-24, skopeo, podman, buildah): layers as <id>/layer.tar,
//   often symlinks to a shared file, or <diffid>.tar;
// - Docker 25+ and the containerd store: manifest.json pointing into an OCI layout's
//   blobs/sha256/, layers possibly gzip-compressed.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "source/source.hpp"
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

struct Candidate {
    size_t index;
    std::vector<std::string> tags;
};

std::string describe_candidates(const std::vector<Candidate>& cs,
                                const std::vector<std::string>& ids) {
    std::string out;
    for (const auto& c : cs) {
        if (!out.empty()) out += ", ";
        if (c.tags.empty()) {
            out += "<untagged " + ids[c.index].substr(0, 19) + ">";
        } else {
            for (size_t i = 0; i < c.tags.size(); ++i) out += (i ? " " : "") + c.tags[i];
        }
    }
    return out;
}

// Picks one image by --image, or the only one. Returns the candidate and the tag chosen.
std::pair<size_t, std::optional<std::string>> select_image(const std::vector<Candidate>& cs,
                                                           const std::vector<std::string>& ids,
                                                           const std::optional<std::string>& wanted,
                                                           const std::string& where) {
    if (cs.empty()) throw Error(where + ": holds no image");
    if (!wanted) {
        if (cs.size() > 1) {
            throw Error(where + " holds " + std::to_string(cs.size()) +
                        " images; pick one with --image: " + describe_candidates(cs, ids));
        }
        const auto& tags = cs.front().tags;
        return {cs.front().index, tags.empty() ? std::nullopt : std::optional(tags.front())};
    }
    Reference want = Reference::parse(*wanted);
    // An explicit tag must exist; a bare name means its "latest", or its only tag.
    std::vector<std::pair<size_t, std::string>> same_name;
    for (const auto& c : cs) {
        for (const auto& t : c.tags) {
            auto ref = Reference::parse(t);
            Reference a = ref, b = want;
            a.tag = b.tag = "";
            if (a.canonical() != b.canonical()) continue;
            same_name.emplace_back(c.index, t);
            if (!want.tag.empty() && ref.tag_or_latest() == want.tag) return {c.index, t};
        }
    }
    if (want.tag.empty()) {
        for (const auto& [idx, t] : same_name) {
            if (Reference::parse(t).tag_or_latest() == "latest") return {idx, t};
        }
        if (same_name.size() == 1) return {same_name.front().first, same_name.front().second};
    }
    throw Error("image " + *wanted + " not found in " + where +
                "; it holds: " + describe_candidates(cs, ids));
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
    std::vector<Candidate> candidates;
    std::vector<std::string> ids;
    for (size_t i = 0; i < doc.size(); ++i) {
        const json& e = doc[i];
        if (!e.is_object() || !e.contains("Config") || !e["Config"].is_string() ||
            !e.contains("Layers") || !e["Layers"].is_array()) {
            throw Error(where + ": manifest.json entry " + std::to_string(i + 1) +
                        " lacks Config or Layers");
        }
        Candidate c{i, {}};
        if (e.contains("RepoTags") && e["RepoTags"].is_array()) {
            for (const auto& t : e["RepoTags"]) {
                if (!t.is_string()) throw Error(where + ": manifest.json has a non-string tag");
                with_context(where + ": manifest.json",
                             [&] { Reference::parse(t.get<std::string>()); });
                c.tags.push_back(t.get<std::string>());
            }
        }
        ids.push_back(e["Config"].get<std::string>());
        candidates.push_back(std::move(c));
    }
    auto [index, tag] = select_image(candidates, ids, options.image, where);
    const json& entry = doc[index];

    Image image;
    image.source_kind = "docker-archive";
    image.fallback_name = fallback_name;
    if (tag) image.reference = Reference::parse(*tag);

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
    std::vector<Candidate> candidates;
    std::vector<std::string> ids;
    for (auto r = repos.begin(); r != repos.end(); ++r) {
        if (!r->is_object())
            throw Error(where + ": repositories entry " + r.key() + " is not an object");
        for (auto t = r->begin(); t != r->end(); ++t) {
            if (!t->is_string() || !is_legacy_id(t->get<std::string>())) {
                throw Error(where + ": repositories: " + r.key() + ":" + t.key() +
                            " has an invalid image id");
            }
            std::string tag = r.key() + ":" + t.key();
            with_context(where + ": repositories", [&] { Reference::parse(tag); });
            std::string id = t->get<std::string>();
            auto it = std::find(ids.begin(), ids.end(), id);
            if (it == ids.end()) {
                ids.push_back(id);
                candidates.push_back({ids.size() - 1, {}});
                it = ids.end() - 1;
            }
            candidates[static_cast<size_t>(it - ids.begin())].tags.push_back(tag);
        }
    }
    auto [index, tag] = select_image(candidates, ids, options.image, where);
    Image image;
    image.source_kind = "docker-archive";
    image.fallback_name = fallback_name;
    if (tag) image.reference = Reference::parse(*tag);
    std::string top = ids[index];
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
