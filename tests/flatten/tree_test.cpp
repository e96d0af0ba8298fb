// MergedTree: layers applied bottom first, whiteouts before a layer's own entries, and the
// events the emitting pass follows.
#include "flatten/tree.hpp"

#include <gtest/gtest.h>

#include "support/layer_builder.hpp"

namespace d2a {
namespace {

using ::d2a::testing::LayerBuilder;

class MergedTreeTest : public ::testing::Test {
  protected:
    // A layer's scan, read the way the flattener reads it.
    LayerScan scan(const LayerBuilder& layer) {
        const std::string tar = layer.tar();
        LayerScanner scanner([&](size_t) { return std::make_unique<MemoryReader>(tar); }, limits_,
                             {"etc/passwd"}, [](size_t) { return std::string("layer"); });
        LayerScan s = scanner.read(0, nullptr);
        scanner.release(s);
        return s;
    }
    const Limits limits_{};
    const FlattenOptions options_{};
};

TEST_F(MergedTreeTest, WhiteoutsHideLowerLayersOnly) {
    MergedTree tree(2, options_);
    LayerScan lower = scan(LayerBuilder().file("a/x", "1").file("a/y", "2").file("b/z", "3"));
    tree.apply(0, lower, "layer 1");
    // The whiteout comes after the layer's own a/x: it still removes only the lower one.
    LayerScan upper =
        scan(LayerBuilder().file("a/x", "new").whiteout("a", "x").opaque("b").file("b/w", "4"));
    tree.apply(1, upper, "layer 2");
    EXPECT_EQ(tree.paths(), (std::vector<std::string>{"a", "a/x", "a/y", "b", "b/w"}));
    EXPECT_EQ(tree.file_origin("a/x"), (EntryOrigin{1, 0}));
    EXPECT_EQ(tree.file_origin("a/y"), (EntryOrigin{0, 1}));
    EXPECT_EQ(tree.file_origin("b/z"), std::nullopt);
}

TEST_F(MergedTreeTest, EventsAreTheSurvivingEntriesByLayerAndOrdinal) {
    MergedTree tree(2, options_);
    LayerScan lower = scan(LayerBuilder().dir("etc").file("etc/passwd", "old").file("keep", "k"));
    tree.apply(0, lower, "layer 1");
    LayerScan upper = scan(LayerBuilder().file("etc/passwd", "new"));
    tree.apply(1, upper, "layer 2");
    EXPECT_EQ(tree.captured("etc/passwd"), std::optional<std::string>("new"));
    const auto events = tree.events();
    ASSERT_EQ(events.size(), 2u);
    std::vector<uint64_t> lower_ordinals, upper_ordinals;
    for (const auto& e : events[0]) lower_ordinals.push_back(e.ordinal);
    for (const auto& e : events[1]) upper_ordinals.push_back(e.ordinal);
    // Layer 1: the directory "etc" (0) and "keep" (2); its etc/passwd (1) was replaced.
    EXPECT_EQ(lower_ordinals, (std::vector<uint64_t>{0, 2}));
    EXPECT_EQ(upper_ordinals, std::vector<uint64_t>{0});
}

}  // namespace
}  // namespace d2a
