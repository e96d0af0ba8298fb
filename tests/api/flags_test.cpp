#include "api/flags.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace d2a::api {
namespace {

Flags parse(std::vector<const char*> args) {
    args.insert(args.begin(), "docker2aci");
    return parse_flags(static_cast<int>(args.size()), args.data());
}

TEST(Flags, ShardTakesTwoPlainCounts) {
    auto o = parse({"--shard", "2/3", "img.tar"});
    ASSERT_TRUE(o.shard);
    EXPECT_EQ(o.shard->first, 2u);
    EXPECT_EQ(o.shard->second, 3u);
    // Signs wrap around in stoull; absurd counts and K >= N are usage errors too.
    for (const char* bad : {"0/-2", "0/-1", "1/-2", "-2/-1", "-1/2", "0/18446744073709551615",
                            "3/3", "0/0", "1", "1/", "/2", " 1/2", "1/2x", "0x1/2"}) {
        EXPECT_THROW(parse({"--shard", bad, "img.tar"}), UsageError) << bad;
    }
}

TEST(Flags, GoSpellingsAndFlagsAfterTheImage) {
    auto o = parse({"img.tar", "-compression=none", "-nosquash", "--debug"});
    EXPECT_EQ(o.pipeline.convert.compression.kind, OutputCompression::none);
    EXPECT_TRUE(o.pipeline.layered);
    EXPECT_TRUE(o.debug);
    ASSERT_EQ(o.images.size(), 1u);
    EXPECT_EQ(o.images[0], "img.tar");
    EXPECT_THROW(parse({"--compression=bzip2", "img.tar"}), UsageError);
    EXPECT_THROW(parse({"--jobs", "0", "img.tar"}), UsageError);
}

}  // namespace
}  // namespace d2a::api
