#include "image/platform.hpp"

#include "util/error.hpp"

namespace d2a {

namespace {

std::string normalize_arch(std::string arch, std::string& variant) {
    if (arch == "x86_64" || arch == "x86-64") return "amd64";
    if (arch == "aarch64") {
        if (variant.empty()) variant = "v8";
        return "arm64";
    }
    if (arch == "armhf") {
        variant = "v7";
        return "arm";
    }
    if (arch == "armel") {
        variant = "v6";
        return "arm";
    }
    if (arch == "i386" || arch == "i686") return "386";
    return arch;
}

}  // namespace

Platform Platform::parse(std::string_view text) {
    Platform p;
    std::string s(text);
    size_t a = s.find('/');
    if (a == std::string::npos || a == 0) {
        throw Error("invalid platform \"" + s + "\": want os/arch[/variant]");
    }
    p.os = s.substr(0, a);
    std::string rest = s.substr(a + 1);
    size_t b = rest.find('/');
    p.variant = b == std::string::npos ? "" : rest.substr(b + 1);
    p.architecture = normalize_arch(b == std::string::npos ? rest : rest.substr(0, b), p.variant);
    if (p.architecture.empty()) throw Error("invalid platform \"" + s + "\": no architecture");
    if (p.architecture == "arm64" && p.variant.empty()) p.variant = "v8";
    return p;
}

std::string Platform::str() const {
    return os + "/" + architecture + (variant.empty() ? "" : "/" + variant);
}

bool Platform::matches(const Platform& c) const {
    if (c.os != os) return false;
    std::string cv = c.variant;
    std::string ca = normalize_arch(c.architecture, cv);
    if (ca != architecture) return false;
    if (ca == "arm64" && cv.empty()) cv = "v8";
    return variant.empty() || cv.empty() || cv == variant;
}

std::string appc_arch(const std::string& architecture, const std::string& variant) {
    std::string v = variant;
    std::string a = normalize_arch(architecture, v);
    if (a == "386") return "i386";
    if (a == "arm64") return "aarch64";
    // appc's ToAppcOSArch: linux/arm with no variant is armv6l, as with v6 (and v5, which
    // runs the same code); v7 and later are armv7l.
    if (a == "arm") return v.empty() || v == "v6" || v == "v5" ? "armv6l" : "armv7l";
    return a;  // amd64, ppc64, ppc64le, s390x, ... as appc names them
}

}  // namespace d2a
