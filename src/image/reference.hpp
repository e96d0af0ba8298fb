// Docker image references: [REGISTRY/]PATH[:TAG][@DIGEST], with Docker Hub's defaults.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace d2a {

struct Reference {
    std::string original;  // as written
    std::string domain;    // empty when the reference names none
    std::string path;      // "mix3/hello", "busybox"
    std::string tag;       // empty when none was written
    std::string digest;    // "sha256:..." or empty

    static Reference parse(std::string_view text);

    // Registry host to contact: docker.io -> registry-1.docker.io.
    [[nodiscard]] std::string registry() const;
    // Path inside the registry: "busybox" on Docker Hub -> "library/busybox".
    [[nodiscard]] std::string repository() const;
    [[nodiscard]] std::string tag_or_latest() const { return tag.empty() ? "latest" : tag; }
    // Fully qualified "docker.io/library/busybox:latest" (digest instead when given),
    // for comparing two spellings of one name.
    [[nodiscard]] std::string canonical() const;
    // Docker's short spelling: docker.io/library/busybox -> busybox, docker.io/a/b -> a/b.
    [[nodiscard]] Reference familiar() const;
    // The name as written, without tag or digest: "mix3/hello", "quay.io/foo/bar".
    [[nodiscard]] std::string name() const { return domain.empty() ? path : domain + "/" + path; }
};

}  // namespace d2a
