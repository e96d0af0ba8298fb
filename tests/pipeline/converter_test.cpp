// The converter's layer reads: a compressed layer is inflated and verified once, by the
// scan, and the passes after it read the scan's copy; without room for that copy, every
// pass reads the source again, and the ACI is the same. And the rkt image ID, computed
// only when asked for.
#include "pipeline/converter.hpp"

#include <gtest/gtest.h>
#include <libdeflate.h>
#include <stdlib.h>

#include <atomic>
#include <fstream>

#include "support/helpers.hpp"
#include "support/layer_builder.hpp"
#include "util/digest.hpp"

namespace d2a {
namespace {

namespace fs = std::filesystem;

std::string gzip(const std::string& data) {
    libdeflate_compressor* c = libdeflate_alloc_compressor(6);
    std::string out(libdeflate_gzip_compress_bound(c, data.size()), '\0');
    out.resize(libdeflate_gzip_compress(c, data.data(), data.size(), out.data(), out.size()));
    libdeflate_free_compressor(c);
    return out;
}

// An image of gzip layers whose blobs count how often they are opened (from the scan's
// threads too).
using Count = std::shared_ptr<std::atomic<int>>;
Image image_of(const std::vector<std::string>& tars, Count opens) {
    Image image;
    image.fallback_name = "spill";
    image.config = ImageConfig::parse(
        R"({"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/a"]}})", "config");
    for (size_t i = 0; i < tars.size(); ++i) {
        LayerSource layer;
        const std::string blob = gzip(tars[i]);
        layer.description = "layer " + std::to_string(i);
        layer.blob_digest = Digest::of(blob, HashAlgorithm::sha256);
        layer.diff_id = Digest::of(tars[i], HashAlgorithm::sha256);
        layer.open_blob = [blob, opens] {
            ++*opens;
            return std::make_unique<MemoryReader>(blob);
        };
        image.layers.push_back(std::move(layer));
    }
    return image;
}

class ConverterReads : public ::testing::Test {
  protected:
    void SetUp() override {
        fs::create_directory(dir_ / "out");
        fs::create_directory(dir_ / "tmp");
        options_.output_dir = dir_ / "out";
        options_.image_id = true;  // the tests below compare ACIs by it
        const char* old = std::getenv("TMPDIR");
        if (old) old_tmpdir_ = old;
        ::setenv("TMPDIR", (dir_ / "tmp").c_str(), 1);
    }
    void TearDown() override {
        if (old_tmpdir_) {
            ::setenv("TMPDIR", old_tmpdir_->c_str(), 1);
        } else {
            ::unsetenv("TMPDIR");
        }
    }
    // No scratch file can be made: TMPDIR names a file.
    void no_scratch_room() {
        std::ofstream(dir_ / "not-a-dir") << "x";
        ::setenv("TMPDIR", (dir_ / "not-a-dir").c_str(), 1);
    }

    testing::TempDir temp_;
    const fs::path dir_ = temp_.path();
    std::optional<std::string> old_tmpdir_;
    ConvertOptions options_;
    const Limits limits_{};
    const std::vector<std::string> tars_ = {
        testing::LayerBuilder()
            .file("bin/a", std::string(300000, 'a'), 0755)
            .file("etc/x", "1")
            .tar(),
        testing::LayerBuilder().file("etc/x", "2").file("etc/.wh.gone", "").tar()};
};

TEST_F(ConverterReads, SquashedInflatesEachCompressedLayerOnce) {
    auto opens = std::make_shared<std::atomic<int>>(0);
    Image image = image_of(tars_, opens);
    ConvertResult spilled = convert_squashed(image, options_, limits_);
    EXPECT_EQ(*opens, 2) << "each layer opened by the scan only";
    EXPECT_TRUE(fs::is_empty(dir_ / "tmp")) << "the copies are unnamed";

    no_scratch_room();
    *opens = 0;
    ConvertResult direct = convert_squashed(image, options_, limits_);
    EXPECT_EQ(*opens, 4) << "without copies, the emitting pass reads the source again";
    EXPECT_EQ(direct.image_id, spilled.image_id) << "same ACI either way";
    EXPECT_EQ(direct.tar_bytes, spilled.tar_bytes);
}

TEST_F(ConverterReads, LayeredInflatesEachCompressedLayerOnce) {
    auto opens = std::make_shared<std::atomic<int>>(0);
    Image image = image_of(tars_, opens);
    std::vector<ConvertResult> spilled = convert_layered(image, options_, limits_);
    ASSERT_EQ(spilled.size(), 2u);
    // Scanned for the final tree, for each layer's whitelist and for each ACI, and emitted:
    // the source is read once per layer all the same.
    EXPECT_EQ(*opens, 2);

    no_scratch_room();
    *opens = 0;
    std::vector<ConvertResult> direct = convert_layered(image, options_, limits_);
    EXPECT_GT(*opens, 4);
    ASSERT_EQ(direct.size(), 2u);
    EXPECT_EQ(direct[0].image_id, spilled[0].image_id);
    EXPECT_EQ(direct[1].image_id, spilled[1].image_id);
}

// The rkt image ID is the SHA-512 of the plain tar, computed only when asked for.
TEST_F(ConverterReads, ImageIdOnlyWhenAsked) {
    Image image = image_of(tars_, std::make_shared<std::atomic<int>>(0));
    options_.compression.kind = OutputCompression::none;
    ConvertResult with_id = convert_squashed(image, options_, limits_);
    const std::string tar = read_all(*with_id.file->read_back(), 1 << 20, "aci");
    ASSERT_EQ(tar.size(), with_id.tar_bytes);
    EXPECT_EQ(with_id.image_id, "sha512-" + Digest::of(tar, HashAlgorithm::sha512).hex);

    options_.image_id = false;
    ConvertResult without = convert_squashed(image, options_, limits_);
    EXPECT_EQ(without.image_id, "");
    EXPECT_EQ(without.tar_bytes, with_id.tar_bytes);
}

}  // namespace
}  // namespace d2a
