// OCI image layouts read through load_oci_layout: names from ref.name, --image, nested
// indexes walked to the platform asked for (other platforms' blobs may be absent), and
// blobs that do not match their digests.
#include <gtest/gtest.h>

#include "source/oci_layout.hpp"
#include "source/options.hpp"
#include "source/source_test_support.hpp"
#include "support/helpers.hpp"
#include "support/layer_builder.hpp"
#include "util/error.hpp"

namespace d2a {
namespace {

using testing::error_of;
using testing::sha256;
using testing::TempTree;

std::string descriptor(const std::string& media_type, const std::string& digest, size_t size,
                       const std::string& extra = "") {
    return R"({"mediaType":")" + media_type + R"(","digest":")" + digest + R"(","size":)" +
           std::to_string(size) + extra + "}";
}

constexpr const char* kManifestType = "application/vnd.oci.image.manifest.v1+json";
constexpr const char* kIndexType = "application/vnd.oci.image.index.v1+json";

// One image for `arch` in the tree; returns its manifest's descriptor.
std::string add_image(const TempTree& tree, const std::string& arch, const std::string& file) {
    std::string layer = ::d2a::testing::LayerBuilder().file(file, arch).tar();
    std::string layer_digest = tree.blob(layer);
    std::string config = R"({"architecture":")" + arch +
                         R"(","os":"linux","rootfs":{"type":"layers","diff_ids":[")" +
                         sha256(layer) + R"("]}})";
    std::string config_digest = tree.blob(config);
    std::string manifest =
        R"({"schemaVersion":2,"mediaType":")" + std::string(kManifestType) + R"(","config":)" +
        descriptor("application/vnd.oci.image.config.v1+json", config_digest, config.size()) +
        R"(,"layers":[)" +
        descriptor("application/vnd.oci.image.layer.v1.tar", layer_digest, layer.size()) + "]}";
    std::string manifest_digest = tree.blob(manifest);
    return descriptor(kManifestType, manifest_digest, manifest.size(),
                      R"(,"platform":{"architecture":")" + arch + R"(","os":"linux"})");
}

void write_index(const TempTree& tree, const std::string& manifests) {
    tree.write("oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
    tree.write("index.json", R"({"schemaVersion":2,"manifests":[)" + manifests + "]}");
}

std::string with_ref_name(std::string d, const std::string& name) {
    d.pop_back();
    return d + R"(,"annotations":{"org.opencontainers.image.ref.name":")" + name + R"("}})";
}

TEST(OciLayout, RefNameIsATagOfTheLayout) {
    TempTree tree;
    write_index(tree, with_ref_name(add_image(tree, "amd64", "one"), "1.0") + "," +
                          with_ref_name(add_image(tree, "amd64", "two"), "2.0"));
    SourceOptions options;
    options.image = "2.0";
    Image image = load_oci_layout(tree.bundle(), options, Limits{}, "app");
    EXPECT_EQ(image.source_kind, SourceKind::oci_layout);
    ASSERT_TRUE(image.reference);
    EXPECT_EQ(image.reference->name() + ":" + image.reference->tag, "app:2.0");
    ASSERT_EQ(image.layers.size(), 1u);
    EXPECT_EQ(image.layers[0].description.rfind("blobs/sha256/", 0), 0u);

    std::string e = error_of([&] { load_oci_layout(tree.bundle(), {}, Limits{}, "app"); });
    EXPECT_NE(e.find("holds 2 images; pick one with --image: 1.0, 2.0"), std::string::npos) << e;
}

// An index inside the index, one platform per manifest, and only amd64's blobs stored (as
// docker save of a multi-platform image leaves them).
TEST(OciLayout, NestedIndexWalkedToThePlatform) {
    TempTree tree;
    std::string amd64 = add_image(tree, "amd64", "x");
    std::string arm64 = descriptor(kManifestType, "sha256:" + std::string(64, 'a'), 100,
                                   R"(,"platform":{"architecture":"arm64","os":"linux"})");
    std::string inner = R"({"schemaVersion":2,"mediaType":")" + std::string(kIndexType) +
                        R"(","manifests":[)" + arm64 + "," + amd64 + "]}";
    write_index(tree, descriptor(kIndexType, tree.blob(inner), inner.size()));
    SourceOptions options;
    options.platform = Platform::parse("linux/amd64");
    Image image = load_oci_layout(tree.bundle(), options, Limits{}, "app");
    EXPECT_EQ(image.config.architecture, "amd64");
    ASSERT_EQ(image.layers.size(), 1u);

    options.platform = Platform::parse("linux/s390x");
    std::string e = error_of([&] { load_oci_layout(tree.bundle(), options, Limits{}, "app"); });
    EXPECT_NE(e.find("linux/s390x"), std::string::npos) << e;
    EXPECT_NE(e.find("linux/amd64"), std::string::npos) << e;  // names what there is
}

TEST(OciLayout, BlobNotMatchingItsDigestIsRefused) {
    TempTree tree;
    std::string d = add_image(tree, "amd64", "x");
    write_index(tree, d);
    // Replace the manifest's bytes, keeping its name.
    std::string digest = d.substr(d.find("sha256:"), 71);
    tree.write("blobs/sha256/" + digest.substr(7), R"({"schemaVersion":2})");
    std::string e = error_of([&] { load_oci_layout(tree.bundle(), {}, Limits{}, "app"); });
    EXPECT_NE(e.find("does not match its digest"), std::string::npos) << e;
}

}  // namespace
}  // namespace d2a
