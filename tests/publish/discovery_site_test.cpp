// The static discovery site: --discovery-url parsed into a prefix and a template (and each
// way a URL cannot be one refused with its reason), and the pages written from the ACIs in
// the directory: the meta tags rkt reads, the key's tag only with a key, rows sorted by
// name and version with their signatures, hidden and broken files left out, the port note.
#include "publish/discovery_site.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "aci/tar_writer.hpp"
#include "codec/compressor.hpp"
#include "support/helpers.hpp"

namespace d2a {
namespace {

namespace fs = std::filesystem;
using testing::error_of;
using testing::StringWriter;
using testing::TempDir;

// A plain ACI of a manifest with the labels the page lists, and one file of `size` bytes.
std::string make_aci(const std::string& name, const std::string& version, size_t size) {
    StringWriter out;
    std::unique_ptr<Writer> plain = make_compressor({OutputCompression::none, 6}, 1, out);
    AciTarWriter tar(*plain);
    tar.write_manifest(R"({"acKind":"ImageManifest","acVersion":"0.8.11","name":")" + name +
                       R"(","labels":[{"name":"version","value":")" + version +
                       R"("},{"name":"os","value":"linux"},{"name":"arch","value":"amd64"}]})");
    tar.write_rootfs_dir(nullptr);
    Entry e;
    e.path = "data";
    e.size = size;
    const std::string data(size, 'x');
    MemoryReader reader(data);
    tar.add(e, &reader);
    tar.finish();
    plain->finish();
    return out.data;
}

void put(const fs::path& path, const std::string& bytes) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << bytes;
}

std::string read(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

TEST(DiscoverySite, ParsesAUrlIntoThePrefixAndTheTemplate) {
    DiscoverySite site = DiscoverySite::parse("https://mirror.example.com/aci");
    EXPECT_EQ(site.url, "https://mirror.example.com/aci");
    EXPECT_EQ(site.prefix, "mirror.example.com/aci");
    EXPECT_EQ(site.port, std::nullopt);
    EXPECT_EQ(site.aci_template(),
              "https://mirror.example.com/aci/{name}-{version}-{os}-{arch}.{ext}");
    site = DiscoverySite::parse("http://127.0.0.1:8080/");
    EXPECT_EQ(site.url, "http://127.0.0.1:8080");
    EXPECT_EQ(site.prefix, "127.0.0.1");
    EXPECT_EQ(site.port, 8080u);
}

TEST(DiscoverySite, RefusesWhatCannotBeASite) {
    auto error = [](const std::string& url) {
        return error_of([&] { (void)DiscoverySite::parse(url); });
    };
    EXPECT_EQ(error("ftp://mirror.example"),
              "--discovery-url ftp://mirror.example: want http:// or https://, a host and an "
              "optional path");
    EXPECT_EQ(error("https://"),
              "--discovery-url https://: want http:// or https://, a host and an optional path");
    EXPECT_EQ(error("https://mirror.example:0/"),
              "--discovery-url https://mirror.example:0/: the port must be a number from 1 to "
              "65535, not \"0\"");
    EXPECT_EQ(error("https://mirror.example:99999"),
              "--discovery-url https://mirror.example:99999: the port must be a number from 1 "
              "to 65535, not \"99999\"");
    EXPECT_EQ(error("https://Mirror.example"),
              "--discovery-url https://Mirror.example: the host must be lower case letters, "
              "digits, '.' and '-'");
    EXPECT_EQ(error("https://mirror.example/a//b"),
              "--discovery-url https://mirror.example/a//b: the path must be lower case "
              "letters, digits and '-._~' between single slashes");
    EXPECT_EQ(error("https://mirror.example/A"),
              "--discovery-url https://mirror.example/A: the path must be lower case letters, "
              "digits and '-._~' between single slashes");
}

TEST(DiscoverySite, AnEmptySiteIsOnePageOfMetaTags) {
    TempDir dir;
    write_discovery_pages(dir.path(), DiscoverySite::parse("https://mirror.example/aci"), nullptr);
    EXPECT_EQ(read(dir.path() / "index.html"),
              "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n"
              "<title>App Container Images: mirror.example/aci</title>\n"
              "<meta name=\"ac-discovery\" content=\"mirror.example/aci "
              "https://mirror.example/aci/{name}-{version}-{os}-{arch}.{ext}\">\n"
              "</head>\n<body>\n<h1>App Container Images: mirror.example/aci</h1>\n"
              "<p>Images here are found by name through appc discovery. They are not signed: "
              "fetch them with <code>--insecure-options=image</code>:</p>\n"
              "<pre>rkt fetch mirror.example/aci/NAME:VERSION</pre>\n"
              "<table>\n<tr><th>image</th><th>version</th><th>platform</th><th>size</th>"
              "<th>signature</th></tr>\n</table>\n<p>0 images.</p>\n</body>\n</html>\n");
    EXPECT_FALSE(fs::exists(dir.path() / "pubkeys.gpg"));
}

TEST(DiscoverySite, ListsTheAcisInTheDirectorySortedWithTheirSignatures) {
    TempDir dir;
    const fs::path root = dir.path();
    put(root / "mirror.example/team/b-2-linux-amd64.aci",
        make_aci("mirror.example/team/b", "2", 10));
    put(root / "mirror.example/team/a-10-linux-amd64.aci",
        make_aci("mirror.example/team/a", "10", 2 << 20));
    put(root / "mirror.example/team/a-10-linux-amd64.aci.asc", "signature");
    put(root / "mirror.example/team/a-1-linux-amd64.aci",
        make_aci("mirror.example/team/a", "1", 10));
    // Left out: a conversion's temporary file, a file that is no ACI, an ACI cut short of
    // its manifest, other files.
    put(root / "mirror.example/team/.d2a-0123456789.tmp.aci", make_aci("hidden/x", "1", 10));
    put(root / "mirror.example/team/junk.aci", "not a tar");
    put(root / "mirror.example/team/cut.aci", make_aci("cut/x", "1", 10).substr(0, 100));
    put(root / "notes.txt", "text");
    // A key already published by an earlier run is announced.
    put(root / "pubkeys.gpg", "key");

    write_discovery_pages(root, DiscoverySite::parse("https://mirror.example"), nullptr);
    const std::string page = read(root / "index.html");
    EXPECT_NE(page.find("<meta name=\"ac-discovery-pubkeys\" content=\"mirror.example "
                        "https://mirror.example/pubkeys.gpg\">\n"),
              std::string::npos)
        << page;
    EXPECT_NE(page.find("Trust the signing key once:</p>\n<pre>rkt trust --prefix "
                        "mirror.example</pre>\n<p>then fetch or run an image by name and "
                        "version:</p>\n<pre>rkt fetch mirror.example/team/a:1</pre>\n"),
              std::string::npos)
        << page;
    const size_t rows = page.find("<th>signature</th></tr>\n") + 24;
    EXPECT_EQ(page.substr(rows),
              "<tr><td>mirror.example/team/a</td><td>1</td><td>linux/amd64</td><td><a "
              "href=\"mirror.example/team/a-1-linux-amd64.aci\">3.6 kB</a></td><td>unsigned</td>"
              "</tr>\n"
              "<tr><td>mirror.example/team/a</td><td>10</td><td>linux/amd64</td><td><a "
              "href=\"mirror.example/team/a-10-linux-amd64.aci\">2.1 MB</a></td><td><a "
              "href=\"mirror.example/team/a-10-linux-amd64.aci.asc\">signed</a></td></tr>\n"
              "<tr><td>mirror.example/team/b</td><td>2</td><td>linux/amd64</td><td><a "
              "href=\"mirror.example/team/b-2-linux-amd64.aci\">3.6 kB</a></td><td>unsigned</td>"
              "</tr>\n"
              "</table>\n<p>3 images.</p>\n</body>\n</html>\n");
}

TEST(DiscoverySite, ASiteOnAnotherPortSaysHowRktReachesIt) {
    TempDir dir;
    write_discovery_pages(dir.path(), DiscoverySite::parse("http://mirror.example:8080"), nullptr);
    const std::string page = read(dir.path() / "index.html");
    EXPECT_NE(page.find("This site is served on port 8080, but appc names cannot hold a port: "
                        "rkt and <code>actool discover</code> look for <code>mirror.example</code> "
                        "on port 80."),
              std::string::npos)
        << page;
    EXPECT_NE(page.find("<pre>actool discover --insecure --port 8080 "
                        "mirror.example/NAME:VERSION,os=linux,arch=amd64</pre>\n"),
              std::string::npos)
        << page;
    EXPECT_EQ(page.find("rkt fetch"), std::string::npos) << page;
}

}  // namespace
}  // namespace d2a
