// `docker2aci serve`'s request parsing: which paths name a file of the site (and which are
// refused before anything is opened), and which Range headers are taken.
#include "serve/serve.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace docker2aci::serve {
namespace {

TEST(SitePath, NamesOfTheSiteAreTaken) {
    EXPECT_EQ(site_path("/127.0.0.1/mix3/hello-latest-linux-amd64.aci"),
              "127.0.0.1/mix3/hello-latest-linux-amd64.aci");
    EXPECT_EQ(site_path("/quay.io/org/app-1.0_rc~1-linux-amd64.aci.asc"),
              "quay.io/org/app-1.0_rc~1-linux-amd64.aci.asc");
    EXPECT_EQ(site_path("/pubkeys.gpg"), "pubkeys.gpg");
}

TEST(SitePath, AnythingElseIsRefusedBeforeItIsOpened) {
    const std::string too_long = "/" + std::string(1024, 'a');
    std::string deep;
    for (int i = 0; i < 33; ++i) deep += "/a";
    for (const std::string& bad : std::vector<std::string>{
             "", "/", "x.aci", "/../etc/passwd", "/a/../b.aci", "/./a.aci",
             "/.d2a-0123456789.tmp.aci", "/a//b.aci", "/a/", "/A.aci", "/a b.aci", "/a%2fb.aci",
             std::string("/a\x01.aci"), std::string("/a\0b.aci", 8), "/a\\b.aci", "/a:b.aci",
             too_long, deep}) {
        EXPECT_EQ(site_path(bad), std::nullopt) << bad;
    }
    std::string deepest;
    for (int i = 0; i < 32; ++i) deepest += "/a";
    EXPECT_TRUE(site_path(deepest).has_value());
    EXPECT_TRUE(site_path("/" + std::string(1023, 'a')).has_value());
}

TEST(ParseRange, OneRangeOfBytes) {
    auto range = [](std::string_view h, uint64_t size) -> std::string {
        auto r = parse_range(h, size);
        return r ? std::to_string(r->first) + "-" + std::to_string(r->last) : "whole";
    };
    EXPECT_EQ(range("bytes=0-99", 1000), "0-99");
    EXPECT_EQ(range("bytes=100-", 1000), "100-999");
    EXPECT_EQ(range("bytes=900-5000", 1000), "900-999");
    EXPECT_EQ(range("bytes=-10", 1000), "990-999");
    EXPECT_EQ(range("bytes=-5000", 1000), "0-999");
    // Nothing of the file in it: 416.
    EXPECT_EQ(range("bytes=1000-", 1000), "1000-1000");
    EXPECT_EQ(range("bytes=1000-2000", 1000), "1000-1000");
    EXPECT_EQ(range("bytes=-0", 1000), "1000-1000");
    EXPECT_EQ(range("bytes=0-", 0), "0-0");
    // Not taken: the whole file is sent.
    for (const char* h : {"bytes=5-1", "bytes=0-1,5-6", "items=0-1", "bytes=", "bytes=-",
                          "bytes=a-", "bytes=1-b", "bytes= 1-2", "bytes=99999999999999999999-"}) {
        EXPECT_EQ(range(h, 1000), "whole") << h;
    }
}

}  // namespace
}  // namespace docker2aci::serve
