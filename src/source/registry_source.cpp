// docker://[REGISTRY/]NAME[:TAG|@DIGEST]: manifest (or index, then the platform's
// manifest), config, and layers downloaded in parallel into a scratch directory, each
// verified before use.
#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "image/descriptor.hpp"
#include "registry/client.hpp"
#include "source/registry_source.hpp"
#include "util/error.hpp"
#include "util/json.hpp"

namespace d2a {

using nlohmann::json;

namespace {

constexpr int kMaxIndexDepth = 4;

std::string human_size(uint64_t n) {
    char buf[32];
    if (n >= (1u << 20)) {
        std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(n) / 1e6);
    } else {
        std::snprintf(buf, sizeof buf, "%.1f kB", static_cast<double>(n) / 1e3);
    }
    return buf;
}

// Schema 1 (legacy, read-only): layers come top first as fsLayers, the config is the
// first history entry's v1Compatibility JSON.
void load_schema1(const json& doc, Image& image, const std::string& what) {
    if (!doc.contains("fsLayers") || !doc["fsLayers"].is_array() || !doc.contains("history") ||
        !doc["history"].is_array() || doc["history"].empty() ||
        doc["history"].size() != doc["fsLayers"].size()) {
        throw Error(what + ": malformed schema 1 manifest");
    }
    const json& top = doc["history"][0];
    if (!top.contains("v1Compatibility") || !top["v1Compatibility"].is_string()) {
        throw Error(what + ": schema 1 history without v1Compatibility");
    }
    std::string v1 = top["v1Compatibility"];
    image.config = ImageConfig::parse(v1, what + " v1Compatibility");
    json v1_doc = parse_untrusted_json(v1, what + " v1Compatibility");
    if (v1_doc.is_object() && v1_doc.contains("id") && v1_doc["id"].is_string()) image.image_id = v1_doc["id"];
    const json& layers = doc["fsLayers"];
    for (size_t i = layers.size(); i-- > 0;) {
        if (!layers[i].is_object() || !layers[i].contains("blobSum") || !layers[i]["blobSum"].is_string()) {
            throw Error(what + ": schema 1 layer without blobSum");
        }
        LayerSource layer;
        layer.blob_digest = with_context(what, [&] { return Digest::parse(layers[i]["blobSum"].get<std::string>()); });
        image.layers.push_back(std::move(layer));
    }
}

}  // namespace

Image pull_registry_image(const std::string& reference_text, const PullOptions& options,
                          const std::filesystem::path& work_dir) {
    Reference ref = Reference::parse(reference_text);
    const std::string registry = ref.registry();
    const std::string repository = ref.repository();
    RegistryClient client(registry, repository, options.registry);
    std::string what = registry + "/" + repository;

    FetchedManifest manifest = client.fetch_manifest(ref.digest.empty() ? ref.tag_or_latest() : ref.digest);
    for (int depth = 0; is_index_media_type(manifest.media_type); ++depth) {
        if (depth >= kMaxIndexDepth) throw Error(what + ": indexes nested too deeply");
        json index = parse_metadata_json(manifest.body, what + " index");
        Descriptor chosen = choose_platform(index_manifests(index, what + " index"),
                                            options.source.platform, what);
        manifest = client.fetch_manifest(chosen.digest.str());
    }

    Image image;
    image.source_kind = "registry";
    image.reference = ref;
    image.manifest_digest = manifest.digest.str();
    json doc = parse_metadata_json(manifest.body, what + " manifest");
    std::vector<Descriptor> blobs;
    if (is_schema1_media_type(manifest.media_type)) {
        load_schema1(doc, image, what + " manifest");
        for (const auto& l : image.layers) blobs.push_back(Descriptor{"", *l.blob_digest, 0, {}, {}});
    } else {
        if (!manifest.media_type.empty() && !is_manifest_media_type(manifest.media_type)) {
            throw Error(what + ": unsupported manifest media type " + manifest.media_type);
        }
        ImageManifestDoc parsed = parse_image_manifest(doc, what + " manifest");
        std::string config_text =
            client.fetch_small_blob(parsed.config.digest, options.source.limits.max_metadata_bytes);
        image.image_id = parsed.config.digest.str();
        image.config = ImageConfig::parse(config_text, what + " config");
        check_layer_count(image.config, parsed.layers.size(), what + " manifest");
        for (size_t i = 0; i < parsed.layers.size(); ++i) {
            LayerSource layer;
            layer.blob_digest = parsed.layers[i].digest;
            if (parsed.layers[i].size) layer.blob_size = parsed.layers[i].size;
            if (i < image.config.diff_ids.size()) layer.diff_id = image.config.diff_ids[i];
            image.layers.push_back(std::move(layer));
            blobs.push_back(parsed.layers[i]);
        }
    }

    // Each distinct blob once, a bounded number at a time.
    std::vector<Descriptor> unique;
    std::set<std::string> seen;
    for (const auto& b : blobs) {
        if (seen.insert(b.digest.str()).second) unique.push_back(b);
    }
    std::atomic<size_t> next{0};
    std::mutex mutex;
    std::string first_error;
    auto worker = [&] {
        try {
            RegistryClient own(registry, repository, options.registry, client.auth_state());
            for (;;) {
                size_t i = next++;
                if (i >= unique.size()) break;
                {
                    std::lock_guard lock(mutex);
                    if (!first_error.empty()) break;
                }
                const Descriptor& d = unique[i];
                auto dest = work_dir / d.digest.hex;
                own.fetch_blob(d.digest, d.size ? std::optional<uint64_t>(d.size) : std::nullopt, dest);
                if (options.progress) {
                    options.progress("Downloaded " + d.digest.str().substr(0, 19) + " (" +
                                     human_size(std::filesystem::file_size(dest)) + ")");
                }
            }
        } catch (const Error& e) {
            std::lock_guard lock(mutex);
            if (first_error.empty()) first_error = e.what();
        }
    };
    std::vector<std::thread> threads;
    size_t n = std::min<size_t>(unique.size(), static_cast<size_t>(std::max(1, options.parallel)));
    for (size_t i = 0; i < n; ++i) threads.emplace_back(worker);
    for (auto& t : threads) t.join();
    if (!first_error.empty()) throw Error(first_error);

    for (auto& layer : image.layers) {
        auto path = work_dir / layer.blob_digest->hex;
        layer.description = layer.blob_digest->str();
        layer.blob_size = std::filesystem::file_size(path);
        layer.open_blob = [path] {
            auto fd = std::make_shared<FileDescriptor>(open_for_reading(path));
            return std::unique_ptr<Reader>(
                std::make_unique<RangeReader>(fd, 0, file_size(fd->get()), path.string()));
        };
    }
    return image;
}

}  // namespace d2a
