// RegistryPull, a whole pull against a registry inside the test process
// (support/http_server.hpp): the tag's manifest and config at once and no layer until one
// is opened; an index narrowed to the requested platform; every distinct blob downloaded
// once whatever the number of layers naming it and of readers; a second pull through the
// cache downloads nothing; a blob whose bytes are not its digest's fails its readers and
// the pull; a descriptor over the size limit is refused before any download; schema 1's
// layers come bottom first.
#include "source/registry_source.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "support/helpers.hpp"
#include "support/http_server.hpp"
#include "support/layer_builder.hpp"
#include "util/digest.hpp"
#include "util/error.hpp"

namespace d2a {
namespace {

using nlohmann::json;
using testing::error_of;
using testing::LayerBuilder;
using testing::TempDir;
using testing::TestServer;

constexpr const char* kOciManifest = "application/vnd.oci.image.manifest.v1+json";
constexpr const char* kOciIndex = "application/vnd.oci.image.index.v1+json";

std::string sha256(const std::string& bytes) {
    return Digest::of(bytes, HashAlgorithm::sha256).str();
}

// A registry of one repository, team/app: documents and blobs by path, each GET counted.
class FakeRegistry {
  public:
    FakeRegistry() {
        server_.server.Get(".*", [this](const httplib::Request& req, httplib::Response& res) {
            std::lock_guard lock(mutex_);
            ++gets_[req.path];
            auto it = objects_.find(req.path);
            if (it == objects_.end()) {
                res.status = 404;
                return;
            }
            if (!it->second.type.empty())
                res.set_header("Docker-Content-Digest", sha256(it->second.bytes));
            res.set_content(it->second.bytes,
                            it->second.type.empty() ? "application/octet-stream" : it->second.type);
        });
    }
    void start() { server_.start(); }
    [[nodiscard]] std::string host() const { return server_.host(); }

    // Served under its digest; returns the digest.
    std::string blob(const std::string& bytes) { return blob_as(bytes, bytes); }
    // `served` under the digest of `named`: a blob whose bytes are not its digest's.
    std::string blob_as(const std::string& named, const std::string& served) {
        std::lock_guard lock(mutex_);
        objects_["/v2/team/app/blobs/" + sha256(named)] = {served, ""};
        return sha256(named);
    }
    // Served under the tag (if any) and its digest; returns the digest.
    std::string manifest(const std::string& body, const std::string& type,
                         const std::string& tag = "") {
        std::lock_guard lock(mutex_);
        objects_["/v2/team/app/manifests/" + sha256(body)] = {body, type};
        if (!tag.empty()) objects_["/v2/team/app/manifests/" + tag] = {body, type};
        return sha256(body);
    }
    int gets(const std::string& path) {
        std::lock_guard lock(mutex_);
        return gets_.count(path) ? gets_.at(path) : 0;
    }
    int blob_gets(const std::string& digest) { return gets("/v2/team/app/blobs/" + digest); }
    // GETs of every blob path, configs included.
    int all_blob_gets() {
        std::lock_guard lock(mutex_);
        int n = 0;
        for (const auto& [path, count] : gets_)
            if (path.starts_with("/v2/team/app/blobs/")) n += count;
        return n;
    }

  private:
    struct Object {
        std::string bytes, type;  // type empty: a blob
    };
    TestServer server_;
    std::mutex mutex_;
    std::map<std::string, Object> objects_;
    std::map<std::string, int> gets_;
};

// An OCI image of uncompressed layers on `registry`: its config's and manifest's text.
struct PushedImage {
    std::vector<std::string> layers;  // the layer tars, bottom first
    std::string config, config_digest, manifest, manifest_digest;
};

PushedImage push_image(FakeRegistry& registry, const std::vector<std::string>& layers,
                       const std::string& tag, const std::string& architecture = "amd64",
                       const std::string& variant = "") {
    PushedImage image;
    image.layers = layers;
    json diff_ids = json::array();
    json descriptors = json::array();
    for (const auto& tar : layers) {
        diff_ids.push_back(sha256(tar));
        descriptors.push_back({{"mediaType", "application/vnd.oci.image.layer.v1.tar"},
                               {"digest", registry.blob(tar)},
                               {"size", tar.size()}});
    }
    json config = {{"architecture", architecture},
                   {"os", "linux"},
                   {"config", {{"Cmd", {"/bin/app", "--serve"}}}},
                   {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}};
    if (!variant.empty()) config["variant"] = variant;
    image.config = config.dump();
    image.config_digest = registry.blob(image.config);
    image.manifest = json{
        {"schemaVersion", 2},
        {"mediaType", kOciManifest},
        {"config",
         {{"mediaType", "application/vnd.oci.image.config.v1+json"},
          {"digest", image.config_digest},
          {"size", image.config.size()}}},
        {"layers",
         descriptors}}.dump();
    image.manifest_digest = registry.manifest(image.manifest, kOciManifest, tag);
    return image;
}

class RegistryPullTest : public ::testing::Test {
  protected:
    void SetUp() override {
        options_.registry.allow_http = true;
        options_.registry.cert_dirs.clear();
        options_.registry.first_backoff = std::chrono::milliseconds(1);
        options_.registry.max_attempts = 2;
        base_ = LayerBuilder().dir("etc").file("etc/os-release", "ID=test\n").tar();
        app_ = LayerBuilder().dir("bin").file("bin/app", std::string(300000, 'a'), 0755).tar();
    }
    std::string ref(const std::string& tag_or_digest) {
        const char sep = tag_or_digest.starts_with("sha256:") ? '@' : ':';
        return registry_.host() + "/team/app" + sep + tag_or_digest;
    }
    static std::string read_layer(const LayerSource& layer) {
        auto reader = layer.open_blob();
        return read_all(*reader, 1 << 30, layer.description);
    }

    FakeRegistry registry_;
    PullOptions options_;
    std::string base_, app_;
};

TEST_F(RegistryPullTest, ResolvesTheTagThenDownloadsEachDistinctBlobOnce) {
    // The base layer twice: one blob under two layers.
    PushedImage pushed = push_image(registry_, {base_, app_, base_}, "1.0");
    registry_.start();
    RegistryPull pull(ref("1.0"), options_);
    const Image& image = pull.image();
    EXPECT_EQ(image.source_kind, SourceKind::registry);
    EXPECT_EQ(image.manifest_digest, pushed.manifest_digest);
    EXPECT_EQ(image.image_id, pushed.config_digest);
    EXPECT_EQ(image.reference->tag, "1.0");
    EXPECT_EQ(image.config.cmd, (std::vector<std::string>{"/bin/app", "--serve"}));
    ASSERT_EQ(image.layers.size(), 3u);
    for (size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(image.layers[i].blob_digest->str(), sha256(pushed.layers[i]));
        EXPECT_EQ(image.layers[i].blob_size, pushed.layers[i].size());
        EXPECT_EQ(image.layers[i].diff_id->str(), sha256(pushed.layers[i]));
        EXPECT_EQ(image.layers[i].description, sha256(pushed.layers[i]));
    }
    // Resolving is the manifest and the config: an image found up to date downloads nothing.
    EXPECT_EQ(registry_.gets("/v2/team/app/manifests/1.0"), 1);
    EXPECT_EQ(registry_.all_blob_gets(), 1);
    EXPECT_EQ(registry_.blob_gets(pushed.config_digest), 1);

    // Opening the top layer downloads every layer blob; each reader gets its blob's bytes.
    EXPECT_TRUE(read_layer(image.layers[2]) == base_);
    EXPECT_TRUE(read_layer(image.layers[1]) == app_);
    EXPECT_TRUE(read_layer(image.layers[0]) == base_);
    EXPECT_TRUE(read_layer(image.layers[1]) == app_);  // a second reader: no second download
    EXPECT_EQ(registry_.blob_gets(sha256(base_)), 1);
    EXPECT_EQ(registry_.blob_gets(sha256(app_)), 1);
    EXPECT_EQ(pull.blobs_downloaded(), 2u);
    EXPECT_NO_THROW(pull.rethrow_download_failure());
}

TEST_F(RegistryPullTest, ByDigestFetchesThatManifest) {
    PushedImage pushed = push_image(registry_, {base_}, "");
    registry_.start();
    RegistryPull pull(ref(pushed.manifest_digest), options_);
    EXPECT_EQ(pull.image().manifest_digest, pushed.manifest_digest);
    EXPECT_EQ(registry_.gets("/v2/team/app/manifests/" + pushed.manifest_digest), 1);
    EXPECT_EQ(error_of([&] { RegistryPull(ref("missing"), options_); }),
              "manifest " + registry_.host() + "/team/app:missing: not found");
}

TEST_F(RegistryPullTest, AnIndexIsNarrowedToTheRequestedPlatform) {
    PushedImage amd64 = push_image(registry_, {base_}, "", "amd64");
    PushedImage arm64 = push_image(registry_, {app_}, "", "arm64", "v8");
    json index = {
        {"schemaVersion", 2},
        {"mediaType", kOciIndex},
        {"manifests",
         {{{"mediaType", kOciManifest},
           {"digest", amd64.manifest_digest},
           {"size", amd64.manifest.size()},
           {"platform", {{"os", "linux"}, {"architecture", "amd64"}}}},
          {{"mediaType", kOciManifest},
           {"digest", arm64.manifest_digest},
           {"size", arm64.manifest.size()},
           {"platform", {{"os", "linux"}, {"architecture", "arm64"}, {"variant", "v8"}}}}}}};
    const std::string index_digest = registry_.manifest(index.dump(), kOciIndex, "multi");
    registry_.start();

    options_.source.platform = Platform::parse("linux/arm64");
    RegistryPull pull(ref("multi"), options_);
    EXPECT_EQ(pull.image().manifest_digest, arm64.manifest_digest);
    EXPECT_EQ(pull.image().image_id, arm64.config_digest);
    EXPECT_TRUE(read_layer(pull.image().layers.at(0)) == app_);
    EXPECT_EQ(registry_.gets("/v2/team/app/manifests/" + amd64.manifest_digest), 0);
    EXPECT_EQ(registry_.blob_gets(amd64.config_digest), 0);
    EXPECT_EQ(registry_.blob_gets(sha256(base_)), 0);

    options_.source.platform = Platform::parse("linux/s390x");
    EXPECT_EQ(error_of([&] { RegistryPull(ref("multi"), options_); }),
              registry_.host() +
                  "/team/app: no image for platform linux/s390x (available: linux/amd64, "
                  "linux/arm64/v8)");
    (void)index_digest;
}

TEST_F(RegistryPullTest, ASecondPullThroughTheCacheDownloadsNothing) {
    PushedImage pushed = push_image(registry_, {base_, app_}, "1.0");
    registry_.start();
    TempDir cache;
    options_.cache_dir = cache.path();
    {
        RegistryPull first(ref("1.0"), options_);
        EXPECT_TRUE(read_layer(first.image().layers[0]) == base_);
        EXPECT_TRUE(read_layer(first.image().layers[1]) == app_);
        EXPECT_EQ(first.blobs_downloaded(), 2u);
    }
    const int blob_gets = registry_.all_blob_gets();
    EXPECT_EQ(blob_gets, 3);  // config and two layers
    RegistryPull second(ref("1.0"), options_);
    EXPECT_EQ(second.image().image_id, pushed.config_digest);
    EXPECT_TRUE(read_layer(second.image().layers[0]) == base_);
    EXPECT_TRUE(read_layer(second.image().layers[1]) == app_);
    EXPECT_EQ(second.blobs_downloaded(), 0u);
    EXPECT_EQ(registry_.all_blob_gets(), blob_gets);  // the config came from the cache too
    EXPECT_EQ(registry_.gets("/v2/team/app/manifests/1.0"), 2);
}

TEST_F(RegistryPullTest, ABlobThatIsNotItsDigestFailsItsReadersAndThePull) {
    std::string tampered = app_;
    tampered[tampered.size() / 2] ^= 1;
    registry_.blob(base_);
    const std::string app_digest = registry_.blob_as(app_, tampered);
    json config = {{"architecture", "amd64"},
                   {"os", "linux"},
                   {"rootfs", {{"type", "layers"}, {"diff_ids", {sha256(base_), app_digest}}}}};
    const std::string config_digest = registry_.blob(config.dump());
    json manifest = {{"schemaVersion", 2},
                     {"mediaType", kOciManifest},
                     {"config",
                      {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                       {"digest", config_digest},
                       {"size", config.dump().size()}}},
                     {"layers",
                      {{{"mediaType", "application/vnd.oci.image.layer.v1.tar"},
                        {"digest", sha256(base_)},
                        {"size", base_.size()}},
                       {{"mediaType", "application/vnd.oci.image.layer.v1.tar"},
                        {"digest", app_digest},
                        {"size", app_.size()}}}}};
    registry_.manifest(manifest.dump(), kOciManifest, "bad");
    registry_.start();
    TempDir cache;
    options_.cache_dir = cache.path();

    RegistryPull pull(ref("bad"), options_);
    const std::string first = error_of([&] { read_layer(pull.image().layers[1]); });
    EXPECT_EQ(first, "blob " + app_digest + ": digest mismatch: got " + sha256(tampered));
    // A second reader gets the same failure; nothing is fetched for it.
    const int gets = registry_.blob_gets(app_digest);
    EXPECT_EQ(error_of([&] { read_layer(pull.image().layers[1]); }), first);
    EXPECT_EQ(registry_.blob_gets(app_digest), gets);
    EXPECT_EQ(error_of([&] { pull.rethrow_download_failure(); }), first);
    // Nothing under the digest in the cache: the next pull downloads it again.
    EXPECT_FALSE(BlobCache(cache.path()).find(Digest::parse(app_digest)).has_value());
}

TEST_F(RegistryPullTest, ALayerOverTheSizeLimitIsRefusedBeforeAnyDownload) {
    PushedImage pushed = push_image(registry_, {base_, app_}, "1.0");
    registry_.start();
    options_.registry.max_blob_bytes = app_.size() - 1;
    EXPECT_EQ(error_of([&] { RegistryPull(ref("1.0"), options_); }),
              registry_.host() + "/team/app: layer " + sha256(app_) + ": its descriptor gives " +
                  std::to_string(app_.size()) + " bytes, more than the limit of " +
                  std::to_string(app_.size() - 1) + " (--max-unpacked-size)");
    EXPECT_EQ(registry_.blob_gets(sha256(base_)), 0);
    EXPECT_EQ(registry_.blob_gets(sha256(app_)), 0);
    (void)pushed;
}

TEST_F(RegistryPullTest, Schema1LayersComeBottomFirst) {
    const std::string bottom = registry_.blob(base_);
    const std::string top = registry_.blob(app_);
    json manifest = {
        {"schemaVersion", 1},
        {"name", "team/app"},
        {"tag", "old"},
        {"architecture", "amd64"},
        {"fsLayers", {{{"blobSum", top}}, {{"blobSum", bottom}}}},
        {"history",
         {{{"v1Compatibility",
            json{{"id", "top-id"}, {"parent", "bottom-id"}, {"config", {{"Cmd", {"/bin/app"}}}}}
                .dump()}},
          {{"v1Compatibility", json{{"id", "bottom-id"}}.dump()}}}}};
    registry_.manifest(manifest.dump(), "application/vnd.docker.distribution.manifest.v1+json",
                       "old");
    registry_.start();
    RegistryPull pull(ref("old"), options_);
    const Image& image = pull.image();
    EXPECT_EQ(image.image_id, "top-id");
    ASSERT_EQ(image.layers.size(), 2u);
    EXPECT_EQ(image.layers[0].blob_digest->str(), bottom);
    EXPECT_EQ(image.layers[1].blob_digest->str(), top);
    EXPECT_FALSE(image.layers[0].diff_id.has_value());
    EXPECT_EQ(image.config.cmd, std::vector<std::string>{"/bin/app"});
    EXPECT_TRUE(read_layer(image.layers[0]) == base_);
    EXPECT_TRUE(read_layer(image.layers[1]) == app_);
}

}  // namespace
}  // namespace d2a
