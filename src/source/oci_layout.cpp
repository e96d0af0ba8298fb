// OCI image layouts: index.json -> (nested indexes) -> manifest -> config and layers.
#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "image/descriptor.hpp"
#include "source/common.hpp"
#include "source/oci_layout.hpp"
#include "source/options.hpp"
#include "util/error.hpp"
#include "util/json.hpp"

namespace d2a {

using nlohmann::json;

namespace {

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

}  // namespace

std::optional<std::string> find_manifest_digest(const Bundle& bundle, const Digest& config,
                                                const Limits& limits) {
    if (!bundle.exists("index.json")) return std::nullopt;
    try {
        std::vector<std::pair<Descriptor, int>> todo;
        json top = parse_metadata_json(bundle.read_file("index.json", limits.max_metadata_bytes),
                                       "index.json");
        for (auto& d : index_manifests(top, "index.json")) todo.emplace_back(d, 0);
        while (!todo.empty()) {
            auto [d, depth] = todo.back();
            todo.pop_back();
            if (!bundle.exists(blob_path(d.digest))) continue;  // other platforms may be absent
            json doc =
                parse_metadata_json(read_blob(bundle, d, limits, "manifest"), d.digest.str());
            if (doc.contains("manifests")) {
                if (depth >= kMaxIndexDepth) continue;
                for (auto& inner : index_manifests(doc, d.digest.str()))
                    todo.emplace_back(inner, depth + 1);
                continue;
            }
            if (doc.contains("config") && doc["config"].is_object() &&
                json_string(doc["config"], "digest") == config.str()) {
                return d.digest.str();
            }
        }
    } catch (const Error&) {
        // The index only names the manifest digest; manifest.json is authoritative.
    }
    return std::nullopt;
}

// The images an index's top level lists, as --image sees them: each entry's name is
// io.containerd.image.name, or ref.name, which is either a full reference or (skopeo,
// umoci, buildah) just a tag of the layout itself. Attestations (build provenance, SBOMs)
// sit next to the images in an index; they are never what a user converts.
std::vector<ImageCandidate> layout_candidates(const std::vector<Descriptor>& tops,
                                              const std::string& fallback_name,
                                              std::vector<Descriptor>& images) {
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
        } catch (const Error&) {  // a name that does not parse is no name: listed by digest
            return std::nullopt;
        }
    };
    std::vector<ImageCandidate> candidates;
    for (const auto& d : tops) {
        if (is_attestation(d)) continue;
        ImageCandidate c;
        std::optional<Reference> name = name_of(d);
        auto ref = d.annotations.find("org.opencontainers.image.ref.name");
        if (ref != d.annotations.end() || name) {
            c.names.push_back({ref == d.annotations.end() ? name->name() + ":" + name->tag_or_latest()
                                                          : ref->second,
                               name});
        }
        c.unnamed = d.digest.str();
        images.push_back(d);
        candidates.push_back(std::move(c));
    }
    return candidates;
}

Image load_oci_layout(const std::shared_ptr<const Bundle>& bundle, const SourceOptions& options,
                      const Limits& limits, const std::string& fallback_name) {
    const std::string where = bundle->describe();
    json top = parse_metadata_json(bundle->read_file("index.json", limits.max_metadata_bytes),
                                   where + ": index.json");
    std::vector<Descriptor> tops = index_manifests(top, where + ": index.json");

    std::vector<Descriptor> images;  // the candidates' descriptors
    const std::vector<ImageCandidate> candidates = layout_candidates(tops, fallback_name, images);
    const ImageSelection selection = select_image(candidates, options.image, where);
    std::vector<Descriptor> chosen;
    for (size_t i : selection.indexes) chosen.push_back(images[i]);
    const std::optional<Reference> reference = selection.reference;

    // Walk indexes down to one manifest for the requested platform.
    Descriptor current = chosen.size() == 1 ? chosen.front()
                                            : choose_platform(chosen, options.platform, where);
    for (int depth = 0;; ++depth) {
        bool index = is_index_media_type(current.media_type);
        json doc;
        if (!index && current.media_type.empty()) {
            doc = parse_metadata_json(read_blob(*bundle, current, limits, "manifest"), current.digest.str());
            index = doc.is_object() && doc.contains("manifests");
        }
        if (!index) break;
        if (depth >= kMaxIndexDepth) throw Error(where + ": indexes nested too deeply");
        if (doc.is_null()) {
            doc = parse_metadata_json(read_blob(*bundle, current, limits, "index"), current.digest.str());
        }
        current = choose_platform(index_manifests(doc, where + ": index " + current.digest.str()),
                                  options.platform, where + ": index " + current.digest.str());
    }
    if (!current.media_type.empty() && !is_manifest_media_type(current.media_type)) {
        throw Error(where + ": unsupported manifest media type " + current.media_type);
    }
    const Descriptor& manifest = current;
    ImageManifestDoc parsed = parse_image_manifest(
        parse_metadata_json(read_blob(*bundle, manifest, limits, "manifest"),
                            where + ": manifest " + manifest.digest.str()),
        where + ": manifest " + manifest.digest.str());
    const Descriptor& config = parsed.config;
    std::string config_text = read_blob(*bundle, config, limits, "config");

    Image image;
    image.source_kind = SourceKind::oci_layout;
    image.fallback_name = fallback_name;
    image.reference = reference;
    image.manifest_digest = manifest.digest.str();
    image.image_id = config.digest.str();
    image.config = ImageConfig::parse(config_text, where + ": config " + config.digest.str());
    check_layer_count(image.config, parsed.layers.size(), where + ": manifest " + manifest.digest.str());
    for (size_t i = 0; i < parsed.layers.size(); ++i) {
        const Descriptor& d = parsed.layers[i];
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
