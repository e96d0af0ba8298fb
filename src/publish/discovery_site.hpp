// The output directory as a static appc discovery site (appc spec, discovery.md): rkt and
// `actool discover` look an image name up by walking its URL path up to a page with
// `ac-discovery` and `ac-discovery-pubkeys` meta tags. One page at the site's root answers
// for every name under the site's prefix, so any static web server (one that ignores the
// ?ac-discovery=1 query) serves the whole site.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace d2a {

class Signer;

struct DiscoverySite {
    std::string url;     // where the output directory is served: "https://cdn.example.com/aci"
    std::string prefix;  // the AC name prefix, host and path: "cdn.example.com/aci"
    // A port in the URL (1-65535). appc names cannot hold one, so rkt and `actool discover`
    // look for the site on the scheme's default port: it must be served there too (a
    // reverse proxy), or found with `actool discover --port`.
    std::optional<unsigned> port;

    // http:// or https://, a host, an optional port, an optional path.
    static DiscoverySite parse(const std::string& url);
    // The template the meta tag gives: URL/{name}-{version}-{os}-{arch}.{ext}, {name}
    // being the whole AC name, slashes and all; an ACI is stored at the same path in
    // the directory.
    [[nodiscard]] std::string aci_template() const;
};

// Writes DIR/index.html (the meta tags, and for people a list of the site's images with
// their versions, platforms, sizes and signatures, and how to trust and fetch them) and,
// with a signer, DIR/pubkeys.gpg (its public key, armored). Both replace what was there
// atomically; the list is made from the ACIs in DIR, so images of earlier runs stay.
void write_discovery_pages(const std::filesystem::path& dir, const DiscoverySite& site,
                           const Signer* signer);

}  // namespace d2a
