// The public C++ API (include/docker2aci/docker2aci.hpp) as a program sees it: options set
// by flag name (a value replaced, a bad one refused with the options left as they were),
// a command line's options changed afterwards, a known manifest skipped before anything is
// written, failures as docker2aci::Error, and a batch's outcomes. (Built into the unit
// tests from its source; tests/e2e/library_test.sh uses the installed shared library.)
#include <gtest/gtest.h>

#include <docker2aci/docker2aci.hpp>
#include <filesystem>
#include <fstream>

#include "source/source_test_support.hpp"
#include "support/helpers.hpp"
#include "support/layer_builder.hpp"

namespace d2a {
namespace {

namespace fs = std::filesystem;
using testing::sha256;
using testing::TempTree;

// An OCI layout of one image of two layers, tagged "1"; returns its manifest's digest.
std::string write_layout(const TempTree& tree) {
    std::string diff_ids, layers;
    for (const char* file : {"hello", "world"}) {
        const std::string layer = testing::LayerBuilder().file(file, "hi\n", 0755).tar();
        diff_ids += std::string(diff_ids.empty() ? "" : ",") + "\"" + sha256(layer) + "\"";
        layers += std::string(layers.empty() ? "" : ",") +
                  R"({"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":")" +
                  tree.blob(layer) + R"(","size":)" + std::to_string(layer.size()) + "}";
    }
    const std::string config =
        R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[)" +
        diff_ids + "]}}";
    const std::string config_digest = tree.blob(config);
    const std::string manifest =
        R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
        R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
        config_digest + R"(","size":)" + std::to_string(config.size()) + R"(},"layers":[)" +
        layers + "]}";
    const std::string manifest_digest = tree.blob(manifest);
    tree.write("oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
    tree.write(
        "index.json",
        R"({"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
            manifest_digest + R"(","size":)" + std::to_string(manifest.size()) +
            R"(,"annotations":{"org.opencontainers.image.ref.name":"1"}}]})");
    return manifest_digest;
}

std::string first_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::string two(2, '\0');
    in.read(two.data(), 2);
    return two;
}

std::string usage_error(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const docker2aci::UsageError& e) {
        return e.what();
    }
    return "no UsageError";
}

class CppApiTest : public ::testing::Test {
  protected:
    void SetUp() override {
        manifest_digest_ = write_layout(tree_);
        fs::create_directories(out_ / "a");
        fs::create_directories(out_ / "b");
    }
    TempTree tree_;
    testing::TempDir temp_;
    const fs::path out_ = temp_.path();
    std::string manifest_digest_;
    const std::string layout_ = tree_.path().string();
};

TEST_F(CppApiTest, SetReplacesAValueAndABadSetChangesNothing) {
    docker2aci::Options options;
    options.set("output-dir", (out_ / "a").string())
        .set("compression", "none")
        .set("nosquash", "true")
        .set("output-dir", (out_ / "b").string())
        .set("nosquash", "false");
    EXPECT_EQ(usage_error([&] { options.set("compression", "brotli"); }),
              "unknown compression method: brotli (want gzip or none)");
    EXPECT_EQ(usage_error([&] { options.set("no-such-flag", "1"); }),
              "unknown option \"no-such-flag\"");
    EXPECT_EQ(usage_error([&] { options.set("nosquash", "maybe"); }),
              "option \"nosquash\" wants true or false, not \"maybe\"");
    EXPECT_EQ(usage_error([&] { options.set("jobs", "2"); }),
              "\"jobs\" is the command line's, not an option of a conversion");
    EXPECT_EQ(usage_error([&] { options.set("known-manifest", "sha256:zz"); }),
              "--known-manifest: invalid digest \"sha256:zz\" (want sha256:<64 hex digits>)");

    const docker2aci::Outcome outcome = docker2aci::convert(options, layout_);
    ASSERT_EQ(outcome.acis.size(), 1u);
    const docker2aci::Aci& aci = outcome.acis[0];
    EXPECT_EQ(fs::path(aci.path).parent_path(), out_ / "b");
    EXPECT_TRUE(fs::is_empty(out_ / "a"));
    EXPECT_NE(first_bytes(aci.path), "\x1f\x8b");  // still none after the refused brotli
    EXPECT_EQ(aci.size, fs::file_size(aci.path));
    EXPECT_EQ(aci.image_id.rfind("sha512-", 0), 0u);
    EXPECT_FALSE(aci.name.empty());
    EXPECT_NE(aci.manifest.find("\"name\":\"" + aci.name + "\""), std::string::npos);
    EXPECT_NE(aci.manifest.find("\"acKind\":\"ImageManifest\""), std::string::npos);
    EXPECT_EQ(outcome.manifest_digest, manifest_digest_);
    EXPECT_EQ(outcome.platform, "linux/amd64");
    EXPECT_FALSE(outcome.skipped);
    EXPECT_FALSE(outcome.from_registry);
}

TEST_F(CppApiTest, ACommandLinesOptionsCanBeChangedAfterwards) {
    const std::string a = (out_ / "a").string();
    const char* argv[] = {"docker2aci", "-o",     a.c_str(),      "-compression",
                          "none",       "--json", layout_.c_str()};
    docker2aci::CommandLine line = docker2aci::parse_command_line(7, argv);
    EXPECT_EQ(line.images, std::vector<std::string>{layout_});
    EXPECT_TRUE(line.json);
    EXPECT_FALSE(line.several);
    line.options.set("output-dir", (out_ / "b").string());  // "-o DIR" is replaced
    const docker2aci::Outcome outcome = docker2aci::convert(line.options, layout_);
    ASSERT_EQ(outcome.acis.size(), 1u);
    EXPECT_EQ(fs::path(outcome.acis[0].path).parent_path(), out_ / "b");
    EXPECT_NE(first_bytes(outcome.acis[0].path), "\x1f\x8b");
    EXPECT_TRUE(fs::is_empty(out_ / "a"));
}

TEST_F(CppApiTest, AKnownManifestIsSkippedBeforeAnythingIsWritten) {
    docker2aci::Options options;
    options.set("output-dir", (out_ / "a").string())
        .set("known-manifest", "sha256:" + std::string(64, '0'))
        .set("known-manifest", manifest_digest_);
    const docker2aci::Outcome outcome = docker2aci::convert(options, layout_);
    EXPECT_TRUE(outcome.skipped);
    EXPECT_TRUE(outcome.acis.empty());
    EXPECT_EQ(outcome.manifest_digest, manifest_digest_);
    EXPECT_TRUE(fs::is_empty(out_ / "a"));
}

TEST_F(CppApiTest, FailuresAreTheApisErrorAndABatchReportsEachImage) {
    docker2aci::Options options;
    options.set("output-dir", (out_ / "a").string());
    const std::string missing = (out_ / "missing.tar").string();
    EXPECT_THROW(docker2aci::convert(options, missing), docker2aci::Error);
    try {
        docker2aci::convert(options, missing);
    } catch (const docker2aci::Error& e) {
        EXPECT_EQ(std::string(e.what()), missing + ": No such file or directory");
    }
    EXPECT_EQ(usage_error([&] { docker2aci::Batch(options, {layout_}, 0); }),
              "jobs must be 1 to 64");
    options.set("username", "me");
    EXPECT_EQ(usage_error([&] { docker2aci::Batch(options, {layout_}, 1); }),
              "option \"username\" needs option \"password\"");
    options.set("password", "secret");

    docker2aci::Batch batch(options, {missing, layout_}, 2);
    std::vector<docker2aci::Outcome> seen;
    EXPECT_FALSE(batch.run([&](const docker2aci::Outcome& o) { seen.push_back(o); }));
    ASSERT_EQ(seen.size(), 2u);
    std::sort(seen.begin(), seen.end(), [](auto& x, auto& y) { return x.index < y.index; });
    EXPECT_EQ(seen[0].error, missing + ": No such file or directory");
    EXPECT_TRUE(seen[0].acis.empty());
    EXPECT_TRUE(seen[1].ok()) << seen[1].error;
    EXPECT_EQ(seen[1].acis.size(), 1u);
    // "nosquash": one ACI per layer, the top one last.
    options.set("nosquash", "true").set("output-dir", (out_ / "b").string());
    const docker2aci::Outcome layered = docker2aci::convert(options, layout_);
    ASSERT_EQ(layered.acis.size(), 2u);
    EXPECT_NE(layered.acis[1].manifest.find("\"dependencies\""), std::string::npos);
}

}  // namespace
}  // namespace d2a
