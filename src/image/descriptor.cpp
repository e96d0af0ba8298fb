#include "image/descriptor.hpp"

#include <set>

#include "util/error.hpp"
#include "util/json.hpp"

namespace d2a {

using nlohmann::json;

bool is_index_media_type(const std::string& t) {
    return t == "application/vnd.oci.image.index.v1+json" ||
           t == "application/vnd.docker.distribution.manifest.list.v2+json";
}

bool is_manifest_media_type(const std::string& t) {
    return t == "application/vnd.oci.image.manifest.v1+json" ||
           t == "application/vnd.docker.distribution.manifest.v2+json";
}

bool is_schema1_media_type(const std::string& t) {
    return t == "application/vnd.docker.distribution.manifest.v1+json" ||
           t == "application/vnd.docker.distribution.manifest.v1+prettyjws";
}

namespace {

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

}  // namespace

Descriptor parse_descriptor(const json& d, const std::string& what) {
    if (!d.is_object()) throw Error(what + ": descriptor is not an object");
    Descriptor out;
    if (d.contains("mediaType") && d["mediaType"].is_string()) out.media_type = d["mediaType"];
    if (!d.contains("digest") || !d["digest"].is_string()) throw Error(what + ": descriptor without digest");
    out.digest = with_context(what, [&] { return Digest::parse(d["digest"].get<std::string>()); });
    if (d.contains("size")) {
        if (!d["size"].is_number_unsigned()) throw Error(what + ": descriptor size is not a count");
        out.size = d["size"].get<uint64_t>();
    }
    if (d.contains("platform") && d["platform"].is_object()) {
        const json& p = d["platform"];
        Platform pl;
        pl.os = json_string(p, "os");
        pl.architecture = json_string(p, "architecture");
        pl.variant = json_string(p, "variant");
        out.platform = pl;
    }
    if (d.contains("annotations") && d["annotations"].is_object()) {
        for (auto kv = d["annotations"].begin(); kv != d["annotations"].end(); ++kv) {
            if (kv->is_string()) out.annotations[kv.key()] = kv->get<std::string>();
        }
    }
    return out;
}

std::vector<Descriptor> index_manifests(const json& index, const std::string& what) {
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

ImageManifestDoc parse_image_manifest(const json& doc, const std::string& what) {
    if (!doc.is_object() || !doc.contains("config") || !doc.contains("layers") || !doc["layers"].is_array()) {
        throw Error(what + ": lacks config or layers");
    }
    if (doc.contains("manifests")) throw Error(what + ": is both an index and a manifest");
    ImageManifestDoc m;
    m.config = parse_descriptor(doc["config"], what + " config");
    for (size_t i = 0; i < doc["layers"].size(); ++i) {
        Descriptor d = parse_descriptor(doc["layers"][i], what + " layer " + std::to_string(i + 1));
        if (!d.media_type.empty() && !layer_types().count(d.media_type)) {
            throw Error(what + ": layer " + d.digest.str() + " has unsupported media type " + d.media_type);
        }
        m.layers.push_back(std::move(d));
    }
    return m;
}

bool is_attestation(const Descriptor& d) {
    return (d.platform && d.platform->os == "unknown") || d.annotations.count("vnd.docker.reference.type");
}

Descriptor choose_platform(const std::vector<Descriptor>& entries, const Platform& platform,
                           const std::string& what) {
    std::vector<std::string> offered;
    for (const auto& d : entries) {
        if (is_attestation(d)) continue;
        if (!d.platform) return d;  // an entry that names no platform serves any
        offered.push_back(d.platform->str());
        if (platform.matches(*d.platform)) return d;
    }
    std::string list;
    for (const auto& p : offered) list += (list.empty() ? "" : ", ") + p;
    throw Error(what + ": no image for platform " + platform.str() +
                (list.empty() ? "" : " (available: " + list + ")"));
}

}  // namespace d2a
