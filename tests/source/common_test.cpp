// select_image: the one --image rule that docker save archives and OCI layouts share.
#include <gtest/gtest.h>

#include "source/common.hpp"
#include "support/helpers.hpp"

namespace d2a {
namespace {

using ::d2a::testing::error_of;

ImageCandidate named(std::initializer_list<std::string> tags) {
    ImageCandidate c;
    for (const auto& t : tags) c.names.push_back({t, Reference::parse(t)});
    c.unnamed = "<untagged>";
    return c;
}

std::string chosen_name(const ImageSelection& s) {
    return s.reference ? s.reference->name() + ":" + s.reference->tag_or_latest() : "-";
}

TEST(SelectImage, ByNameAndTag) {
    const std::vector<ImageCandidate> cs = {named({"team/a:1"}),
                                            named({"team/b:2", "team/b:latest"})};
    auto s = select_image(cs, "team/b:2", "x.tar");
    EXPECT_EQ(s.indexes, std::vector<size_t>{1});
    EXPECT_EQ(chosen_name(s), "team/b:2");
    // A bare name means its "latest" ...
    s = select_image(cs, "team/b", "x.tar");
    EXPECT_EQ(s.indexes, std::vector<size_t>{1});
    EXPECT_EQ(chosen_name(s), "team/b:latest");
    // ... or its only tag.
    s = select_image(cs, "team/a", "x.tar");
    EXPECT_EQ(s.indexes, std::vector<size_t>{0});
    EXPECT_EQ(chosen_name(s), "team/a:1");
    // The registry's full spelling names the same repository.
    EXPECT_EQ(select_image(cs, "docker.io/team/a:1", "x.tar").indexes, std::vector<size_t>{0});
}

TEST(SelectImage, MissingOrAmbiguousNamesAreErrors) {
    const std::vector<ImageCandidate> cs = {named({"team/a:1", "team/a:2"}), named({"team/b:2"})};
    EXPECT_EQ(error_of([&] { select_image(cs, "team/a:3", "x.tar"); }),
              "image team/a:3 not found in x.tar; it holds: team/a:1 team/a:2, team/b:2");
    // Two tags and no "latest": a bare name does not pick one.
    EXPECT_EQ(error_of([&] { select_image(cs, "team/a", "x.tar"); }),
              "image team/a not found in x.tar; it holds: team/a:1 team/a:2, team/b:2");
    EXPECT_EQ(error_of([&] { select_image(cs, std::nullopt, "x.tar"); }),
              "x.tar holds 2 images; pick one with --image: team/a:1 team/a:2, team/b:2");
    EXPECT_EQ(error_of([&] { select_image({}, std::nullopt, "x.tar"); }), "x.tar: holds no image");
}

// An OCI layout's ref.name may be a bare tag of the layout, and one name may have a
// manifest per platform: all of them are chosen, for the platform choice that follows.
TEST(SelectImage, LayoutTagsAndPlatformVariants) {
    auto tag = [](const std::string& spelled, const std::string& ref) {
        ImageCandidate c;
        c.names.push_back({spelled, Reference::parse(ref)});
        return c;
    };
    const std::vector<ImageCandidate> cs = {tag("1.0", "app:1.0"), tag("2.0", "app:2.0"),
                                            tag("2.0", "app:2.0")};
    auto s = select_image(cs, "2.0", "layout");
    EXPECT_EQ(s.indexes, (std::vector<size_t>{1, 2}));
    EXPECT_EQ(chosen_name(s), "app:2.0");
    EXPECT_EQ(select_image(cs, "app:1.0", "layout").indexes, std::vector<size_t>{0});
    // Without --image, variants of one name are one image; two names are two.
    EXPECT_EQ(select_image({cs[1], cs[2]}, std::nullopt, "layout").indexes,
              (std::vector<size_t>{0, 1}));
    EXPECT_EQ(error_of([&] { select_image(cs, std::nullopt, "layout"); }),
              "layout holds 2 images; pick one with --image: 1.0, 2.0");
}

TEST(SelectImage, UnnamedImagesAreListedByTheirLabel) {
    ImageCandidate a, b;
    a.unnamed = "sha256:aaaa";
    b.unnamed = "sha256:bbbb";
    EXPECT_EQ(select_image({a}, std::nullopt, "layout").reference, std::nullopt);
    EXPECT_EQ(error_of([&] {
                  select_image({a, b}, std::nullopt, "layout");
              }),
              "layout holds 2 images; pick one with --image: sha256:aaaa, sha256:bbbb");
    EXPECT_EQ(error_of([&] {
                  select_image({a, b}, "sha256:aaaa", "layout");
              }),
              "image sha256:aaaa not found in layout; it holds: sha256:aaaa, sha256:bbbb");
}

}  // namespace
}  // namespace d2a
