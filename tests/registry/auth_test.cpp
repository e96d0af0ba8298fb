#include "registry/auth.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "registry/client.hpp"
#include "util/error.hpp"

namespace d2a {
namespace {

TEST(WwwAuthenticate, BearerInAnyOrderWithQuotedCommas) {
    auto c = parse_www_authenticate(
        R"(Bearer scope="repository:a/b:pull,push",service="registry.example.com",realm="https://auth.example.com/token")");
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(c[0].scheme, "bearer");
    EXPECT_EQ(c[0].params.at("realm"), "https://auth.example.com/token");
    EXPECT_EQ(c[0].params.at("service"), "registry.example.com");
    EXPECT_EQ(c[0].params.at("scope"), "repository:a/b:pull,push");
}

TEST(WwwAuthenticate, SeveralChallengesEscapesAndBareValues) {
    auto c = parse_www_authenticate(
        R"(Basic realm="say \"hi\"", Bearer realm=https://a.example/t,error="invalid_token" , NewScheme)");
    ASSERT_EQ(c.size(), 3u);
    EXPECT_EQ(c[0].scheme, "basic");
    EXPECT_EQ(c[0].params.at("realm"), "say \"hi\"");
    EXPECT_EQ(c[1].scheme, "bearer");
    EXPECT_EQ(c[1].params.at("realm"), "https://a.example/t");
    EXPECT_EQ(c[1].params.at("error"), "invalid_token");
    EXPECT_EQ(c[2].scheme, "newscheme");
    EXPECT_TRUE(parse_www_authenticate("").empty());
}

TEST(Base64, RoundTripAndRejectsGarbage) {
    for (const std::string& s : std::vector<std::string>{"", "a", "ab", "abc", "user:p@ss:word",
                                                         std::string("\0\xff", 2)}) {
        EXPECT_EQ(base64_decode(base64_encode(s)), s);
    }
    EXPECT_EQ(base64_encode("alice:secret"), "YWxpY2U6c2VjcmV0");
    EXPECT_THROW(base64_decode("not*base64"), Error);
}

TEST(RetryAfter, SecondsDatesAndCap) {
    EXPECT_EQ(parse_retry_after("3"), std::chrono::seconds(3));
    EXPECT_EQ(parse_retry_after("100000"), std::chrono::seconds(60));
    EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), std::chrono::seconds(0));  // past
    EXPECT_EQ(parse_retry_after("soon"), std::chrono::seconds(0));
}

class CredentialFiles : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() / ("d2a-cred-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir_);
        for (const char* v : {"DOCKER_CONFIG", "REGISTRY_AUTH_FILE", "HOME"}) {
            const char* old = std::getenv(v);
            saved_.emplace_back(v, old ? std::optional<std::string>(old) : std::nullopt);
            ::unsetenv(v);
        }
        ::setenv("HOME", dir_.c_str(), 1);
    }
    void TearDown() override {
        for (const auto& [k, v] : saved_) {
            if (v)
                ::setenv(k.c_str(), v->c_str(), 1);
            else
                ::unsetenv(k.c_str());
        }
        std::filesystem::remove_all(dir_);
    }
    std::filesystem::path write(const std::string& name, const std::string& text) {
        auto p = dir_ / name;
        std::filesystem::create_directories(p.parent_path());
        std::ofstream(p) << text;
        return p;
    }
    std::filesystem::path dir_;
    std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

TEST_F(CredentialFiles, AuthsByHostAndDockerHubKey) {
    write(".docker/config.json",
          R"({"auths": {"reg.example:5000": {"auth": "YWxpY2U6czNjcmV0"},
                        "https://index.docker.io/v1/": {"auth": "aHViOmh1YnBhc3M="}}})");
    auto c = find_credentials("reg.example:5000", {});
    ASSERT_TRUE(c);
    EXPECT_EQ(c->username, "alice");
    EXPECT_EQ(c->password, "s3cret");
    auto hub = find_credentials("registry-1.docker.io", {});
    ASSERT_TRUE(hub);
    EXPECT_EQ(hub->username, "hub");
    EXPECT_FALSE(find_credentials("other.example", {}));
}

TEST_F(CredentialFiles, PrecedenceUsernameThenAuthFileThenDockerConfig) {
    write(".docker/config.json", R"({"auths": {"r.example": {"auth": "ZG9ja2VyOmNmZw=="}}})");
    auto authfile = write("auth.json", R"({"auths": {"r.example": {"auth": "YXV0aDpmaWxl"}}})");
    EXPECT_EQ(find_credentials("r.example", {})->username, "docker");
    ::setenv("REGISTRY_AUTH_FILE", authfile.c_str(), 1);
    EXPECT_EQ(find_credentials("r.example", {})->username, "auth");
    CredentialOptions explicit_user{std::string("cli"), std::string("pw")};
    EXPECT_EQ(find_credentials("r.example", explicit_user)->username, "cli");
}

TEST_F(CredentialFiles, IdentityTokensAreKeptApartFromPasswords) {
    // What `docker login` stores when the registry hands out a refresh token.
    write(".docker/config.json",
          R"({"auths": {"a.example": {"auth": "Ym9iOg==", "identitytoken": "idt-1"},
                        "b.example": {"identitytoken": "idt-2"},
                        "c.example": {"auth": "Ym9iOnB3", "identitytoken": ""}}})");
    auto a = find_credentials("a.example", {});
    ASSERT_TRUE(a);
    EXPECT_EQ(a->username, "bob");
    EXPECT_EQ(a->password, "");
    EXPECT_EQ(a->identity_token, "idt-1");
    auto b = find_credentials("b.example", {});
    ASSERT_TRUE(b);
    EXPECT_EQ(b->identity_token, "idt-2");
    auto c = find_credentials("c.example", {});
    ASSERT_TRUE(c);
    EXPECT_EQ(c->password, "pw");
    EXPECT_EQ(c->identity_token, "");
}

TEST_F(CredentialFiles, DockerConfigDirAndMalformedEntries) {
    auto d = dir_ / "cfgdir";
    write("cfgdir/config.json", R"({"auths": {"r.example": {"auth": "bm9jb2xvbg=="}}})");
    ::setenv("DOCKER_CONFIG", d.c_str(), 1);
    EXPECT_THROW(find_credentials("r.example", {}), Error);  // "nocolon": no user:password
    write("cfgdir/config.json", "{not json");
    EXPECT_THROW(find_credentials("r.example", {}), Error);
}

}  // namespace
}  // namespace d2a
