#include "aci/manifest.hpp"

#include <gtest/gtest.h>

#include "aci/naming.hpp"
#include "util/error.hpp"

namespace d2a {
namespace {

using nlohmann::json;

TEST(Naming, Sanitize) {
    EXPECT_EQ(sanitize_ac_identifier("Mix3/Hello"), "mix3/hello");
    EXPECT_EQ(sanitize_ac_identifier("a__b"), "a_b");
    EXPECT_EQ(sanitize_ac_identifier("/lead/trail-"), "lead/trail");
    EXPECT_EQ(sanitize_ac_identifier("localhost:5000/x"), "localhost_5000/x");
    EXPECT_EQ(sanitize_ac_name("volume/var/log"), "volume-var-log");
    EXPECT_EQ(sanitize_ac_name("8000-8010/tcp"), "8000-8010-tcp");
}

TEST(Naming, FileName) {
    EXPECT_EQ(aci_file_name("mix3/hello", "latest", "linux", "amd64"),
              "mix3-hello-latest-linux-amd64.aci");
    EXPECT_EQ(aci_file_name("x", "", "linux", "aarch64"), "x-linux-aarch64.aci");
}

TEST(Naming, ImageNames) {
    Image archive;
    archive.source_kind = SourceKind::docker_archive;
    archive.reference = Reference::parse("mix3/hello:latest");
    auto n = aci_naming(archive);
    EXPECT_EQ(n.name, "mix3/hello");
    EXPECT_EQ(n.file_name, "mix3-hello-latest-linux-amd64.aci");
    Image registry;
    registry.source_kind = SourceKind::registry;
    registry.reference = Reference::parse("busybox");
    registry.config.architecture = "arm";
    registry.config.variant = "v7";
    n = aci_naming(registry);
    EXPECT_EQ(n.name, "registry-1.docker.io/library/busybox");
    EXPECT_EQ(n.file_name, "library-busybox-latest-linux-armv7l.aci");
    // appc's table: arm without a variant is armv6l.
    registry.config.variant = "";
    EXPECT_EQ(aci_naming(registry).file_name, "library-busybox-latest-linux-armv6l.aci");
    registry.config.variant = "v6";
    EXPECT_EQ(aci_naming(registry).file_name, "library-busybox-latest-linux-armv6l.aci");
    // A registry with a port: ':' becomes '_', as appc's SanitizeACIdentifier makes it.
    Image local;
    local.source_kind = SourceKind::registry;
    local.reference = Reference::parse("127.0.0.1:5000/team/app:1");
    EXPECT_EQ(aci_naming(local).name, "127.0.0.1_5000/team/app");
    EXPECT_EQ(aci_naming(local).file_name, "team-app-1-linux-amd64.aci");
    Image quay;
    quay.source_kind = SourceKind::registry;
    quay.reference = Reference::parse("quay.io/foo/bar:2");
    EXPECT_EQ(aci_naming(quay).name, "quay.io/foo/bar");
    EXPECT_EQ(aci_naming(quay).file_name, "foo-bar-2-linux-amd64.aci");
}

TEST(Manifest, Ports) {
    json p = map_ports({"80/tcp", "53/udp", "8000-8010/tcp", "9000"});
    EXPECT_EQ(
        p.dump(),
        R"([{"count":1,"name":"53-udp","port":53,"protocol":"udp","socketActivated":false},)"
        R"({"count":1,"name":"80-tcp","port":80,"protocol":"tcp","socketActivated":false},)"
        R"({"count":11,"name":"8000-8010-tcp","port":8000,"protocol":"tcp","socketActivated":false},)"
        R"({"count":1,"name":"9000-tcp","port":9000,"protocol":"tcp","socketActivated":false}])");
    EXPECT_THROW(map_ports({"70000/tcp"}), Error);
    EXPECT_THROW(map_ports({"0/tcp"}), Error);
    EXPECT_THROW(map_ports({"90-80/tcp"}), Error);
    EXPECT_THROW(map_ports({"abc/tcp"}), Error);
    EXPECT_THROW(map_ports({"80/icmp"}), Error);
}

TEST(Manifest, VolumesNamedInSortedPathOrder) {
    json v = map_volumes({"/var/log", "/var-log", "data", "/var/log/"});
    EXPECT_EQ(v.dump(), R"([{"name":"volume-data","path":"/data","readOnly":false},)"
                        R"({"name":"volume-var-log","path":"/var-log","readOnly":false},)"
                        R"({"name":"volume-var-log-1","path":"/var/log","readOnly":false}])");
    EXPECT_THROW(map_volumes({"/a/../../etc"}), Error);
}

TEST(Manifest, Environment) {
    EXPECT_EQ(map_environment({"A=1", "B=x=y", "NOEQUALS", "A=2", "E="}).dump(),
              R"([{"name":"A","value":"2"},{"name":"B","value":"x=y"},{"name":"E","value":""}])");
    EXPECT_THROW(map_environment({"1BAD=x"}), Error);
}

TEST(Manifest, Users) {
    std::string passwd = "root:x:0:0::/root:/bin/sh\napp:x:1000:2000::/home/app:/bin/sh\n";
    auto check = [&](const std::string& in, const std::string& u, const std::string& g) {
        auto r = map_user(in, passwd);
        EXPECT_EQ(r.user, u) << in;
        EXPECT_EQ(r.group, g) << in;
    };
    check("", "0", "0");
    check("app", "app", "2000");
    check("1000", "1000", "2000");
    check("app:wheel", "app", "wheel");
    check("5:6", "5", "6");
    check("nobody", "nobody", "0");
    EXPECT_EQ(map_user("app", std::nullopt).group, "0");
}

TEST(Manifest, FullMappingIsDeterministic) {
    Image image;
    image.source_kind = SourceKind::docker_archive;
    image.reference = Reference::parse("mix3/hello:latest");
    image.image_id = "sha256:" + std::string(64, 'c');
    image.manifest_digest = "sha256:" + std::string(64, 'd');
    image.config = ImageConfig::parse(
        R"({"architecture":"amd64","os":"linux","author":"me","created":"2020-01-01T00:00:00Z",
            "config":{"Entrypoint":["/bin/e"],"Cmd":["c"],"Env":["PATH=/bin"],"User":"1:2",
            "WorkingDir":"w","ExposedPorts":{"5000/tcp":{}},"Volumes":{"/v":{}},
            "Labels":{"z":"1","a":"2"}}})",
        "config");
    json m = build_manifest({&image, std::nullopt, ""});
    EXPECT_EQ(
        m.dump(),
        R"({"acKind":"ImageManifest","acVersion":"0.8.11","annotations":[)"
        R"({"name":"appc.io/docker/cmd","value":"[\"c\"]"},)"
        R"({"name":"appc.io/docker/entrypoint","value":"[\"/bin/e\"]"},)"
        R"({"name":"appc.io/docker/imageid","value":"sha256:)" +
            std::string(64, 'c') +
            R"("},)"
            R"({"name":"appc.io/docker/manifesthash","value":"sha256:)" +
            std::string(64, 'd') +
            R"("},)"
            R"({"name":"appc.io/docker/originalname","value":"mix3/hello:latest"},)"
            R"({"name":"appc.io/docker/registryurl","value":"registry-1.docker.io"},)"
            R"({"name":"appc.io/docker/repository","value":"mix3/hello"},)"
            R"({"name":"appc.io/docker/tag","value":"latest"},)"
            R"({"name":"authors","value":"me"},{"name":"created","value":"2020-01-01T00:00:00Z"}],)"
            R"("app":{"environment":[{"name":"PATH","value":"/bin"}],"exec":["/bin/e","c"],"group":"2",)"
            R"("mountPoints":[{"name":"volume-v","path":"/v","readOnly":false}],)"
            R"("ports":[{"count":1,"name":"5000-tcp","port":5000,"protocol":"tcp","socketActivated":false}],)"
            R"("user":"1","userLabels":{"a":"2","z":"1"},"workingDirectory":"/w"},)"
            R"("labels":[{"name":"arch","value":"amd64"},{"name":"os","value":"linux"},)"
            R"({"name":"version","value":"latest"}],"name":"mix3/hello"})");
}

TEST(Manifest, CreatedOnlyWhenRfc3339) {
    auto created = [](const std::string& value) {
        Image image;
        image.source_kind = SourceKind::docker_archive;
        image.reference = Reference::parse("a/b:1");
        image.config.created = value;
        const auto manifest = build_manifest({&image, std::nullopt, ""});
        for (const auto& a : manifest["annotations"]) {
            if (a["name"] == "created") return a["value"].get<std::string>();
        }
        return std::string("<none>");
    };
    EXPECT_EQ(created("2024-05-01T10:20:30.123456789Z"), "2024-05-01T10:20:30.123456789Z");
    EXPECT_EQ(created("2024-05-01T10:20:30+02:00"), "2024-05-01T10:20:30+02:00");
    EXPECT_EQ(created("0001-01-01T00:00:00Z"), "0001-01-01T00:00:00Z");
    EXPECT_EQ(created("yesterday"), "<none>");
    EXPECT_EQ(created("2024-05-01 10:20:30"), "<none>");
    EXPECT_EQ(created("2024-05-01T10:20:30"), "<none>");
    EXPECT_EQ(created(""), "<none>");
}

TEST(Config, RejectsWrongTypes) {
    EXPECT_THROW(ImageConfig::parse(R"({"config":{"Env":"x"}})", "c"), Error);
    EXPECT_THROW(ImageConfig::parse(R"({"config":{"Cmd":[1]}})", "c"), Error);
    EXPECT_THROW(ImageConfig::parse(R"([1])", "c"), Error);
    EXPECT_THROW(ImageConfig::parse(R"({"rootfs":{"diff_ids":["sha256:../x"]}})", "c"), Error);
    EXPECT_THROW(ImageConfig::parse("{", "c"), Error);
}

}  // namespace
}  // namespace d2a
