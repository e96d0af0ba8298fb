// docker save trees of each generation, read through load_docker_archive: which image is
// picked, its name, its layers bottom first, and the errors for what is missing or wrong.
#include <gtest/gtest.h>

#include "source/docker_archive.hpp"
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

std::string config_for(const std::vector<std::string>& layer_tars, const std::string& cmd) {
    std::string ids;
    for (const auto& t : layer_tars) ids += (ids.empty() ? "\"" : ",\"") + sha256(t) + "\"";
    return R"({"architecture":"amd64","os":"linux","config":{"Cmd":[")" + cmd +
           R"("]},"rootfs":{"type":"layers","diff_ids":[)" + ids + "]}}";
}

// Docker 1.10-24: manifest.json, <id>/layer.tar, the config as <hex>.json.
class DockerArchive : public ::testing::Test {
  protected:
    void SetUp() override {
        for (const char* name : {"base", "a", "b"}) {
            tars_[name] = ::d2a::testing::LayerBuilder().file(name, name).tar();
            tree_.write(std::string(name) + "/layer.tar", tars_[name]);
        }
        std::string config_a = config_for({tars_["base"], tars_["a"]}, "/a");
        std::string config_b = config_for({tars_["base"], tars_["b"]}, "/b");
        hex_a_ = sha256(config_a).substr(7);
        hex_b_ = sha256(config_b).substr(7);
        tree_.write(hex_a_ + ".json", config_a);
        tree_.write(hex_b_ + ".json", config_b);
        tree_.write("manifest.json", R"([{"Config":")" + hex_a_ +
                                         R"(.json","RepoTags":["team/a:1"],)"
                                         R"("Layers":["base/layer.tar","a/layer.tar"]},)"
                                         R"({"Config":")" +
                                         hex_b_ +
                                         R"(.json","RepoTags":["team/b:2","team/b:latest"],)"
                                         R"("Layers":["base/layer.tar","b/layer.tar"]}])");
    }
    TempTree tree_;
    std::map<std::string, std::string> tars_;
    std::string hex_a_, hex_b_;
};

TEST_F(DockerArchive, PicksTheImageAskedFor) {
    SourceOptions options;
    options.image = "team/b:latest";
    Image image = load_docker_archive(tree_.bundle(), options, Limits{}, "fallback");
    EXPECT_EQ(image.source_kind, SourceKind::docker_archive);
    ASSERT_TRUE(image.reference);
    EXPECT_EQ(image.reference->name() + ":" + image.reference->tag, "team/b:latest");
    EXPECT_EQ(image.image_id, "sha256:" + hex_b_);
    EXPECT_EQ(image.config.cmd, std::optional(std::vector<std::string>{"/b"}));
    ASSERT_EQ(image.layers.size(), 2u);  // bottom first
    EXPECT_EQ(image.layers[0].diff_id->str(), sha256(tars_["base"]));
    EXPECT_EQ(image.layers[1].diff_id->str(), sha256(tars_["b"]));
    EXPECT_NE(image.layers[1].description.find("b/layer.tar"), std::string::npos);
}

TEST_F(DockerArchive, SeveralImagesNeedImage) {
    std::string e = error_of([&] { load_docker_archive(tree_.bundle(), {}, Limits{}, "x"); });
    EXPECT_NE(e.find("holds 2 images"), std::string::npos) << e;
    EXPECT_NE(e.find("team/a:1"), std::string::npos) << e;  // says which there are
    EXPECT_NE(e.find("team/b:2 team/b:latest"), std::string::npos) << e;
    SourceOptions options;
    options.image = "team/c:1";
    e = error_of([&] { load_docker_archive(tree_.bundle(), options, Limits{}, "x"); });
    EXPECT_NE(e.find("image team/c:1 not found in"), std::string::npos) << e;
}

TEST_F(DockerArchive, MissingLayerAndChangedConfigAreNamed) {
    SourceOptions options;
    options.image = "team/a:1";
    std::filesystem::remove(tree_.path() / "a/layer.tar");
    std::string e = error_of([&] { load_docker_archive(tree_.bundle(), options, Limits{}, "x"); });
    EXPECT_NE(e.find(": layer a/layer.tar is missing"), std::string::npos) << e;

    tree_.write("a/layer.tar", tars_["a"]);
    tree_.write(hex_a_ + ".json", config_for({tars_["base"], tars_["a"]}, "/changed"));
    e = error_of([&] { load_docker_archive(tree_.bundle(), options, Limits{}, "x"); });
    EXPECT_NE(e.find("config " + hex_a_ + ".json does not match its digest"), std::string::npos)
        << e;
}

// Docker < 1.10: repositories names the top layer id; each <id>/json names its parent.
TEST(LegacyDockerArchive, FollowsTheParentChain) {
    TempTree tree;
    std::string id1(64, '1'), id2(64, '2');
    tree.write("repositories", R"({"lib/app":{"1":")" + id2 + R"("}})");
    tree.write(id1 + "/json", R"({"id":")" + id1 + R"("})");
    tree.write(id1 + "/layer.tar", ::d2a::testing::LayerBuilder().file("bottom", "b").tar());
    tree.write(id2 + "/json",
               R"({"id":")" + id2 + R"(","parent":")" + id1 + R"(","config":{"Cmd":["/top"]}})");
    tree.write(id2 + "/layer.tar", ::d2a::testing::LayerBuilder().file("top", "t").tar());
    Image image = load_docker_archive(tree.bundle(), {}, Limits{}, "x");
    ASSERT_TRUE(image.reference);
    EXPECT_EQ(image.reference->name() + ":" + image.reference->tag, "lib/app:1");
    EXPECT_EQ(image.config.cmd, std::optional(std::vector<std::string>{"/top"}));
    ASSERT_EQ(image.layers.size(), 2u);
    EXPECT_NE(image.layers[0].description.find(id1), std::string::npos);
    EXPECT_NE(image.layers[1].description.find(id2), std::string::npos);

    // A chain that comes back to itself is refused, not followed forever.
    tree.write(id1 + "/json", R"({"id":")" + id1 + R"(","parent":")" + id2 + R"("})");
    std::string e = error_of([&] { load_docker_archive(tree.bundle(), {}, Limits{}, "x"); });
    EXPECT_NE(e.find("parent chain loops"), std::string::npos) << e;
}

}  // namespace
}  // namespace d2a
