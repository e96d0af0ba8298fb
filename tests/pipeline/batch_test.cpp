// The batch as a library call: shards chosen by each reference alone, every image's outcome
// reported once, two images of one file name an error for the later one whatever --jobs,
// and a discovery site's pages written once every image has ended.
#include "pipeline/batch.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>

#include "support/helpers.hpp"
#include "support/layer_builder.hpp"
#include "util/digest.hpp"

namespace d2a {
namespace {

namespace fs = std::filesystem;

// FNV-1a of the reference: fixed, so that shards agree across versions and machines.
TEST(Shards, AReferenceKeepsItsShardWhateverTheBatchHolds) {
    EXPECT_EQ(shard_of("docker://a/b:1", 1000003), 815235u);
    std::vector<std::string> batch;
    for (int i = 0; i < 40; ++i) batch.push_back("docker://r/img" + std::to_string(i) + ":1");
    std::vector<std::string> other(batch.rbegin(), batch.rend());
    for (int i = 40; i < 60; ++i) other.push_back("docker://r/img" + std::to_string(i) + ":1");
    size_t total = 0;
    for (uint64_t k = 0; k < 3; ++k) {
        const auto mine = select_shard(batch, k, 3);
        total += mine.size();
        auto theirs = select_shard(other, k, 3);
        theirs.erase(std::remove_if(theirs.begin(), theirs.end(),
                                    [&](const std::string& r) {
                                        return std::find(batch.begin(), batch.end(), r) ==
                                               batch.end();
                                    }),
                     theirs.end());
        std::reverse(theirs.begin(), theirs.end());
        EXPECT_EQ(mine, theirs) << "shard " << k;
        EXPECT_FALSE(mine.empty());
    }
    EXPECT_EQ(total, batch.size());
}

class BatchTest : public ::testing::Test {
  protected:
    // A docker save (1.10+) archive of one layer holding /from = `origin`, tagged `tag`.
    fs::path archive(const std::string& name, const std::string& tag, const std::string& origin) {
        const std::string layer = testing::LayerBuilder().file("from", origin).tar();
        const std::string config = R"({"architecture":"amd64","os":"linux","config":{},)"
                                   R"("rootfs":{"type":"layers","diff_ids":[")" +
                                   Digest::of(layer, HashAlgorithm::sha256).str() + R"("]}})";
        const std::string manifest =
            R"([{"Config":"config.json","RepoTags":[")" + tag + R"("],"Layers":["layer.tar"]}])";
        const fs::path path = temp_.path() / name;
        std::ofstream(path, std::ios::binary) << testing::LayerBuilder()
                                                     .file("manifest.json", manifest)
                                                     .file("config.json", config)
                                                     .file("layer.tar", layer)
                                                     .tar();
        return path;
    }
    testing::TempDir temp_;
};

TEST_F(BatchTest, EachOutcomeOnceAndTheLaterImageOfOneFileNameFails) {
    const std::vector<std::string> refs = {archive("quay.tar", "quay.io/foo/app:1", "quay"),
                                           archive("bad.tar", "x/y:1", "x").string() + ".missing",
                                           archive("ghcr.tar", "ghcr.io/foo/app:1", "ghcr"),
                                           archive("other.tar", "team/other:2", "other")};
    for (int jobs : {1, 3}) {
        BatchOptions options;
        options.jobs = jobs;
        options.pipeline.convert.output_dir = temp_.path() / ("out" + std::to_string(jobs));
        fs::create_directory(options.pipeline.convert.output_dir);
        Batch batch(refs, options);
        struct Seen {
            std::string reference, error;
            size_t results = 0;
            [[nodiscard]] bool ok() const { return error.empty(); }
        };
        std::map<size_t, Seen> seen;
        const bool ok = batch.run([&](const BatchOutcome& o) {
            Seen s{o.reference, o.error, o.image ? o.image->results.size() : 0};
            EXPECT_TRUE(seen.emplace(o.index, s).second) << "reported twice: " << o.reference;
        });
        EXPECT_FALSE(ok);
        ASSERT_EQ(seen.size(), refs.size());
        EXPECT_TRUE(seen[0].ok()) << seen[0].error;
        EXPECT_NE(seen[1].error.find("No such file or directory"), std::string::npos)
            << seen[1].error;
        EXPECT_NE(seen[2].error.find("foo-app-1-linux-amd64.aci is also the output of"),
                  std::string::npos)
            << seen[2].error;
        EXPECT_TRUE(seen[3].ok()) << seen[3].error;
        EXPECT_EQ(seen[3].reference, refs[3]);
        EXPECT_EQ(seen[3].results, 1u);
    }
}

TEST_F(BatchTest, DiscoveryPagesAreWrittenOnceEveryImageHasEnded) {
    BatchOptions options;
    options.jobs = 2;
    options.pipeline.convert.output_dir = temp_.path() / "site";
    options.pipeline.convert.site = DiscoverySite::parse("https://mirror.example/aci");
    fs::create_directory(options.pipeline.convert.output_dir);
    Batch batch({archive("a.tar", "team/a:1", "a"), archive("b.tar", "team/b:2", "b")}, options);
    size_t reported = 0;
    EXPECT_TRUE(batch.run([&](const BatchOutcome& o) {
        ++reported;
        EXPECT_TRUE(o.ok()) << o.error;
    }));
    EXPECT_EQ(reported, 2u);
    std::ifstream in(options.pipeline.convert.output_dir / "index.html");
    const std::string page{std::istreambuf_iterator<char>(in), {}};
    EXPECT_NE(page.find("mirror.example/aci/team/a"), std::string::npos) << page;
    EXPECT_NE(page.find("mirror.example/aci/team/b"), std::string::npos) << page;
    EXPECT_NE(page.find("2 images."), std::string::npos) << page;
}

}  // namespace
}  // namespace d2a
