// docker://[REGISTRY/]NAME[:TAG|@DIGEST]: manifest (or index, then the platform's
// manifest) and config at once; the layers when first opened, downloaded in parallel into
// the cache or unnamed scratch files, each verified before use.
#include "source/registry_source.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <set>
#include <system_error>
#include <thread>

#include "image/descriptor.hpp"
#include "registry/client.hpp"
#include "source/arriving_blob.hpp"
#include "source/common.hpp"
#include "util/error.hpp"
#include "util/file.hpp"
#include "util/json.hpp"
#include "util/threads.hpp"

namespace d2a {

using nlohmann::json;

namespace {

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
    if (v1_doc.is_object() && v1_doc.contains("id") && v1_doc["id"].is_string())
        image.image_id = v1_doc["id"];
    const json& layers = doc["fsLayers"];
    for (size_t i = layers.size(); i-- > 0;) {
        if (!layers[i].is_object() || !layers[i].contains("blobSum") ||
            !layers[i]["blobSum"].is_string()) {
            throw Error(what + ": schema 1 layer without blobSum");
        }
        LayerSource layer;
        layer.blob_digest = with_context(
            what, [&] { return Digest::parse(layers[i]["blobSum"].get<std::string>()); });
        image.layers.push_back(std::move(layer));
    }
}

}  // namespace

// Every layer blob of one pull, downloaded once, from the first time any layer is opened:
// the downloads (a bounded number at a time, bottom layer first) run on a thread of their
// own. A layer opened while its blob arrives is read as the bytes come (the scan runs
// along with the download instead of after it); its reader sees the end of the blob only
// once the download is complete and verified. A blob in an unnamed scratch file is
// written by its download alone, each byte once and hashed as written (fetch_blob never
// rewrites a byte), so what a reader took from it is what was verified and the reader
// does not hash it again; a blob in the cache, a file others can open, is hashed again
// by its reader (open_layer_tar). A failure is kept and given to every reader still
// waiting, so nothing is fetched twice; the destructor cancels what is left.
class RegistryPull::LayerBlobs : public std::enable_shared_from_this<LayerBlobs> {
  public:
    LayerBlobs(const PullOptions& options, Reference reference, std::shared_ptr<AuthState> auth,
               std::optional<BlobCache> cache, std::vector<Descriptor> blobs)
        : options_(options),
          reference_(std::move(reference)),
          auth_(std::move(auth)),
          cache_(std::move(cache)),
          blobs_(std::move(blobs)) {}
    LayerBlobs(const LayerBlobs&) = delete;
    LayerBlobs& operator=(const LayerBlobs&) = delete;

    ~LayerBlobs() {
        cancelled_ = true;
        if (downloader_.joinable()) downloader_.join();
    }

    std::unique_ptr<Reader> open(const Digest& digest) {
        start();
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return arrivals_.count(digest.str()) || finished_; });
        auto it = arrivals_.find(digest.str());
        if (it == arrivals_.end()) {
            if (error_) std::rethrow_exception(error_);
            throw Error("blob " + digest.str() + ": not downloaded");
        }
        return it->second->open(shared_from_this());
    }

    size_t downloaded() {
        std::lock_guard lock(mutex_);
        return downloaded_;
    }

    // The error that ended the downloads, unless stop() caused it.
    std::exception_ptr failure() {
        std::lock_guard lock(mutex_);
        return error_after_stop_ ? nullptr : error_;
    }

    // The conversion gave up: the downloads end now (a stalled one too), and readers still
    // waiting for bytes fail.
    void stop() {
        stop_requested_ = true;
        cancelled_ = true;
    }

  private:
    void start() {
        {
            std::lock_guard lock(mutex_);
            if (started_) return;
            started_ = true;
        }
        try {
            downloader_ = std::thread([this] { download_all(); });
        } catch (const std::system_error&) {  // no thread to spare: download here, then read
            download_all();
        }
    }

    // Each distinct blob once; records the end (with the first error, if any).
    void download_all() {
        std::vector<Descriptor> unique;
        std::set<std::string> seen;
        for (const auto& b : blobs_) {
            if (seen.insert(b.digest.str()).second) unique.push_back(b);
        }
        if (options_.observer) options_.observer->started(unique);
        std::atomic<size_t> next{0};
        std::mutex failure_mutex;
        std::exception_ptr first_failure;  // kept before the others are cancelled
        bool first_failure_after_stop = false;
        auto worker = [&] {
            try {
                RegistryClient own(reference_.registry(), reference_.repository(),
                                   options_.registry, auth_);
                for (;;) {
                    size_t i = next++;
                    if (i >= unique.size() || cancelled_) break;
                    fetch(own, i, unique[i]);
                }
            } catch (...) {  // the pull has failed: the others stop now, not when their
                             // transfers end (a stalled one could take minutes)
                {
                    std::lock_guard lock(failure_mutex);
                    if (!first_failure) {
                        first_failure = std::current_exception();
                        first_failure_after_stop = stop_requested_;
                    }
                }
                cancelled_ = true;
                throw;
            }
        };
        std::exception_ptr error;
        try {
            run_parallel(std::min<size_t>(unique.size(),
                                          static_cast<size_t>(std::max(1, options_.parallel))),
                         worker);
        } catch (...) {  // handed to every reader still waiting
            error = first_failure ? first_failure : std::current_exception();
        }
        {
            std::lock_guard lock(mutex_);
            error_ = error;
            error_after_stop_ = first_failure_after_stop;
            finished_ = true;
            // Readers of a blob that did not arrive whole get the pull's error (complete
            // ones ignore it).
            for (auto& [digest, arrival] : arrivals_) {
                arrival->fail(
                    error ? error
                          : std::make_exception_ptr(Error(arrival->name() + ": not downloaded")));
            }
        }
        changed_.notify_all();
    }

    // Makes a blob's bytes readable as they arrive in `file`.
    std::shared_ptr<ArrivingBlob> publish(const Descriptor& d, std::shared_ptr<FileDescriptor> file,
                                          std::string name, bool private_file = false) {
        ArrivingBlob::Info info;
        info.name = std::move(name);
        info.file = std::move(file);
        info.digest = d.digest;
        if (d.size) info.checked_size = d.size;
        info.private_file = private_file;
        auto arrival = std::make_shared<ArrivingBlob>(std::move(info));
        {
            std::lock_guard lock(mutex_);
            arrivals_[d.digest.str()] = arrival;
        }
        changed_.notify_all();
        return arrival;
    }

    // One blob, readable from the moment its download starts; counted when fetched (not
    // found in the cache).
    void fetch(RegistryClient& client, size_t index, const Descriptor& d) {
        auto size = d.size ? std::optional<uint64_t>(d.size) : std::nullopt;
        std::shared_ptr<ArrivingBlob> arrival;
        auto on_bytes = [&](uint64_t done) {
            if (arrival) arrival->arrived();
            if (options_.observer) options_.observer->progress(index, d, done);
        };
        bool fetched = true;
        std::shared_ptr<FileDescriptor> file;
        std::string name;
        if (cache_) {
            CachedBlob blob = cache_->get(
                d.digest,
                [&](const FileDescriptor& partial, const std::string& partial_name) {
                    // A partial file left by another pull may hold bytes that are not the
                    // blob's (the cache then starts over): it is read once complete.
                    if (!arrival && file_size(partial.get()) == 0)
                        arrival = publish(d, duplicate(partial, partial_name), partial_name);
                    client.fetch_blob(d.digest, size, partial, partial_name, on_bytes, &cancelled_);
                },
                &fetched);
            file = blob.file;
            name = blob.path.string();
        } else {
            file = std::make_shared<FileDescriptor>(make_scratch_file());
            name = "scratch copy of " + d.digest.str();
            arrival = publish(d, file, name, true);
            client.fetch_blob(d.digest, size, *file, name, on_bytes, &cancelled_);
        }
        const uint64_t stored_size = file_size(file->get());
        if (fetched) {  // counted before a reader can see the blob's end and ask
            std::lock_guard lock(mutex_);
            ++downloaded_;
        }
        if (!arrival) arrival = publish(d, file, name);  // found in the cache, or resumed
        arrival->complete(stored_size);
        if (options_.observer) options_.observer->finished(index, d, stored_size, !fetched);
    }

    static std::shared_ptr<FileDescriptor> duplicate(const FileDescriptor& file,
                                                     const std::string& name) {
        auto copy = std::make_shared<FileDescriptor>(::fcntl(file.get(), F_DUPFD_CLOEXEC, 0));
        if (!copy->valid()) throw_errno(name);
        return copy;
    }

    const PullOptions options_;
    const Reference reference_;
    const std::shared_ptr<AuthState> auth_;
    const std::optional<BlobCache> cache_;
    const std::vector<Descriptor> blobs_;
    std::atomic<bool> cancelled_{false};
    std::atomic<bool> stop_requested_{false};
    std::mutex mutex_;
    std::condition_variable changed_;
    bool started_ = false;
    bool finished_ = false;
    std::exception_ptr error_;
    bool error_after_stop_ = false;
    std::map<std::string, std::shared_ptr<ArrivingBlob>> arrivals_;
    size_t downloaded_ = 0;
    std::thread downloader_;  // last: joined before the members above go
};

RegistryPull::RegistryPull(const std::string& reference_text, PullOptions options)
    : options_(std::move(options)) {
    Reference ref = Reference::parse(reference_text);
    const std::string registry = ref.registry();
    const std::string repository = ref.repository();
    client_ = std::make_unique<RegistryClient>(registry, repository, options_.registry);
    if (options_.cache_dir) cache_.emplace(*options_.cache_dir, options_.registry.notice);
    const std::string what = registry + "/" + repository;

    FetchedManifest manifest =
        client_->fetch_manifest(ref.digest.empty() ? ref.tag_or_latest() : ref.digest);
    for (int depth = 0; is_index_media_type(manifest.media_type); ++depth) {
        if (depth >= kMaxIndexDepth) throw Error(what + ": indexes nested too deeply");
        json index = parse_metadata_json(manifest.body, what + " index");
        Descriptor chosen = choose_platform(index_manifests(index, what + " index"),
                                            options_.source.platform, what);
        manifest = client_->fetch_manifest(chosen.digest.str());
    }

    std::vector<Descriptor> descriptors;  // of the layer blobs
    image_.source_kind = SourceKind::registry;
    image_.reference = ref;
    image_.manifest_digest = manifest.digest.str();
    json doc = parse_metadata_json(manifest.body, what + " manifest");
    if (is_schema1_media_type(manifest.media_type)) {
        load_schema1(doc, image_, what + " manifest");
        for (const auto& l : image_.layers)
            descriptors.push_back(Descriptor{"", *l.blob_digest, 0, {}, {}});
    } else {
        if (!manifest.media_type.empty() && !is_manifest_media_type(manifest.media_type)) {
            throw Error(what + ": unsupported manifest media type " + manifest.media_type);
        }
        ImageManifestDoc parsed = parse_image_manifest(doc, what + " manifest");
        const Digest& config_digest = parsed.config.digest;
        std::string config_text = cached_config(config_digest);
        if (config_text.empty()) {
            config_text =
                client_->fetch_small_blob(config_digest, options_.registry.max_metadata_bytes);
            if (cache_) cache_->put(config_digest, config_text);
        }
        image_.image_id = config_digest.str();
        image_.config = ImageConfig::parse(config_text, what + " config");
        check_layer_count(image_.config, parsed.layers.size(), what + " manifest");
        for (size_t i = 0; i < parsed.layers.size(); ++i) {
            // Refused before any download starts, not after the others have run.
            if (parsed.layers[i].size > options_.registry.max_blob_bytes) {
                throw Error(
                    what + ": layer " + parsed.layers[i].digest.str() + ": its descriptor gives " +
                    std::to_string(parsed.layers[i].size) + " bytes, more than the limit of " +
                    std::to_string(options_.registry.max_blob_bytes) + " (--max-unpacked-size)");
            }
            LayerSource layer;
            layer.blob_digest = parsed.layers[i].digest;
            if (parsed.layers[i].size) layer.blob_size = parsed.layers[i].size;
            if (i < image_.config.diff_ids.size()) layer.diff_id = image_.config.diff_ids[i];
            image_.layers.push_back(std::move(layer));
            descriptors.push_back(parsed.layers[i]);
        }
    }
    blobs_ = std::make_shared<LayerBlobs>(options_, ref, client_->auth_state(), cache_,
                                          std::move(descriptors));
    image_.stop_reading = [weak = std::weak_ptr<LayerBlobs>(blobs_)] {
        if (auto blobs = weak.lock()) blobs->stop();
    };
    for (auto& layer : image_.layers) {
        layer.description = layer.blob_digest->str();
        layer.open_blob = [blobs = blobs_, digest = *layer.blob_digest] {
            return blobs->open(digest);
        };
    }
}

RegistryPull::~RegistryPull() = default;

std::string RegistryPull::cached_config(const Digest& digest) const {
    if (!cache_) return "";
    std::optional<CachedBlob> hit = cache_->find(digest);
    if (!hit) return "";
    RangeReader reader(hit->file, 0, hit->size, hit->path.string());
    std::string text = read_all(reader, options_.registry.max_metadata_bytes, "config");
    // What is parsed is what was checked: these bytes, not whatever the name holds now.
    return Digest::of(text, digest.algorithm) == digest ? text : "";
}

size_t RegistryPull::blobs_downloaded() const {
    return blobs_->downloaded();
}

void RegistryPull::rethrow_download_failure() const {
    if (std::exception_ptr failure = blobs_->failure()) std::rethrow_exception(failure);
}

}  // namespace d2a
