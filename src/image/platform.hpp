// Platforms ("linux/arm64/v8") and their appc names.
#pragma once

#include <string>
#include <string_view>

namespace d2a {

struct Platform {
    std::string os = "linux";
    std::string architecture = "amd64";
    std::string variant;

    // Accepts os/arch[/variant] and common aliases (x86_64, aarch64, armhf, i386).
    static Platform parse(std::string_view text);
    [[nodiscard]] std::string str() const;
    // True when `candidate` (from an index or config) serves this request.
    [[nodiscard]] bool matches(const Platform& candidate) const;
};

// appc's os and arch label values (appc types.ToAppcOSArch): amd64, i386, aarch64,
// armv6l, armv7l, ppc64, ppc64le, s390x.
std::string appc_arch(const std::string& architecture, const std::string& variant);

}  // namespace d2a
