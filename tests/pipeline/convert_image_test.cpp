// The pipeline called as a library, as a program embedding the converter would: no process
// spawned, the outcome read from the returned value.
#include "pipeline/convert_image.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>

#include "support/helpers.hpp"
#include "support/layer_builder.hpp"
#include "util/digest.hpp"
#include "util/error.hpp"

namespace d2a {
namespace {

namespace fs = std::filesystem;

class ConvertImageTest : public ::testing::Test {
  protected:
    void SetUp() override {
        fs::create_directory(dir_ / "out");
        options_.convert.output_dir = dir_ / "out";
        options_.convert.image_id = true;
    }

    // A docker save (1.10+) archive of one layer; `diff_id_of` is the tar whose digest the
    // config records (the layer itself unless a test wants them to differ).
    fs::path write_archive(const std::string& name, const std::string& layer,
                           const std::string& diff_id_of) {
        std::string config = R"({"architecture":"amd64","os":"linux","config":{"Cmd":["/hello"]},)"
                             R"("rootfs":{"type":"layers","diff_ids":[")" +
                             Digest::of(diff_id_of, HashAlgorithm::sha256).str() + R"("]}})";
        std::string manifest = R"([{"Config":"config.json","RepoTags":["lib/hello:1"],)"
                               R"("Layers":["layer.tar"]}])";
        std::string archive = testing::LayerBuilder()
                                  .file("manifest.json", manifest)
                                  .file("config.json", config)
                                  .file("layer.tar", layer)
                                  .tar();
        fs::path path = dir_ / name;
        std::ofstream(path, std::ios::binary) << archive;
        return path;
    }

    testing::TempDir temp_;
    const fs::path dir_ = temp_.path();
    PipelineOptions options_;
    const std::string layer_ = testing::LayerBuilder().file("hello", "hi\n", 0755).tar();
};

TEST_F(ConvertImageTest, ConvertsThenFindsItUnchanged) {
    fs::path archive = write_archive("hello.tar", layer_, layer_);
    ImageOutcome first = convert_image(archive.string(), options_);
    ASSERT_EQ(first.results.size(), 1u);
    const fs::path aci = dir_ / "out" / "lib-hello-1-linux-amd64.aci";
    EXPECT_EQ(first.results[0].path, aci);
    EXPECT_TRUE(fs::is_regular_file(aci));
    EXPECT_FALSE(first.skipped);
    EXPECT_EQ(first.results[0].manifest["name"], "lib/hello");
    EXPECT_EQ(first.results[0].manifest["app"]["exec"], nlohmann::json::array({"/hello"}));
    EXPECT_EQ(first.image.source_kind, SourceKind::docker_archive);

    const auto written = fs::last_write_time(aci);
    ImageOutcome again = convert_image(archive.string(), options_);
    EXPECT_TRUE(again.skipped);
    EXPECT_TRUE(again.results.empty());
    EXPECT_EQ(again.skipped_paths, std::vector<fs::path>{aci});
    EXPECT_EQ(fs::last_write_time(aci), written);

    options_.force = true;
    ImageOutcome forced = convert_image(archive.string(), options_);
    EXPECT_FALSE(forced.skipped);
    ASSERT_EQ(forced.results.size(), 1u);
    EXPECT_EQ(forced.results[0].image_id, first.results[0].image_id);  // same bytes
}

// A layer whose bytes do not match the config's diff_id: an Error naming the mismatch, and
// no file in the output directory.
TEST_F(ConvertImageTest, TamperedLayerLeavesNothing) {
    std::string other = testing::LayerBuilder().file("hello", "not hi\n", 0755).tar();
    fs::path archive = write_archive("bad.tar", other, layer_);
    try {
        (void)convert_image(archive.string(), options_);
        FAIL() << "a tampered layer converted";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("digest mismatch"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(fs::is_empty(dir_ / "out"));
}

// Two images of one batch mapping to one file name: the later one in the batch fails and
// the first one's file stays. (Claims are taken in batch order: number 1 waits for number 0,
// so here 0 goes first.)
TEST_F(ConvertImageTest, ClaimsKeepTheFirstOfABatch) {
    fs::path a = write_archive("a.tar", layer_, layer_);
    fs::path b = write_archive("b.tar", layer_, layer_);
    OutputClaims claims;
    ImageOutcome first = convert_image(a.string(), options_, &claims, 0);
    ASSERT_EQ(first.results.size(), 1u);
    const auto written = fs::last_write_time(first.results[0].path);
    options_.force = true;
    try {
        (void)convert_image(b.string(), options_, &claims, 1);
        FAIL() << "the second image of the batch took the first one's name";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(a.string()), std::string::npos) << e.what();
    }
    EXPECT_EQ(fs::last_write_time(first.results[0].path), written);
}

}  // namespace
}  // namespace d2a
