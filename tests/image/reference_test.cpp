#include "image/reference.hpp"

#include <gtest/gtest.h>

#include "util/error.hpp"

namespace d2a {
namespace {

TEST(Reference, DockerHubDefaults) {
    auto r = Reference::parse("busybox");
    EXPECT_EQ(r.registry(), "registry-1.docker.io");
    EXPECT_EQ(r.repository(), "library/busybox");
    EXPECT_EQ(r.tag_or_latest(), "latest");
    EXPECT_EQ(r.canonical(), "docker.io/library/busybox:latest");
    EXPECT_EQ(r.name(), "busybox");
}

TEST(Reference, RegistryWithPortTagAndDigest) {
    auto r = Reference::parse("localhost:5000/team/app:1.2");
    EXPECT_EQ(r.domain, "localhost:5000");
    EXPECT_EQ(r.path, "team/app");
    EXPECT_EQ(r.tag, "1.2");
    EXPECT_EQ(r.registry(), "localhost:5000");
    EXPECT_EQ(r.repository(), "team/app");
    auto d = Reference::parse("quay.io/foo/bar@sha256:" + std::string(64, 'a'));
    EXPECT_EQ(d.digest, "sha256:" + std::string(64, 'a'));
    EXPECT_EQ(d.tag, "");
    EXPECT_EQ(Reference::parse("mix3/hello").repository(), "mix3/hello");
}

TEST(Reference, SpellingsOfOneName) {
    EXPECT_EQ(Reference::parse("docker.io/library/busybox:latest").canonical(),
              Reference::parse("busybox").canonical());
    EXPECT_EQ(Reference::parse("index.docker.io/mix3/hello").canonical(),
              Reference::parse("mix3/hello:latest").canonical());
}

TEST(Reference, FamiliarSpelling) {
    EXPECT_EQ(Reference::parse("docker.io/library/busybox:1").familiar().original, "busybox:1");
    EXPECT_EQ(Reference::parse("docker.io/example/app:1.0").familiar().name(), "example/app");
    EXPECT_EQ(Reference::parse("quay.io/a/b:2").familiar().name(), "quay.io/a/b");
    EXPECT_EQ(Reference::parse("docker.io/library/a/b").familiar().path, "library/a/b");
}

TEST(Reference, Invalid) {
    for (const char* bad : {"", "UPPER/case", "a/../b", "name:bad tag", "a//b", "x@sha256:12",
                            "-lead", "a/b:", "../x"}) {
        EXPECT_THROW(Reference::parse(bad), Error) << bad;
    }
}

}  // namespace
}  // namespace d2a
