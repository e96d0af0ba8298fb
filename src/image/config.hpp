// The parts of a Docker / OCI image configuration the conversion uses.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/digest.hpp"

namespace d2a {

struct ImageConfig {
    std::string os;
    std::string architecture;
    std::string variant;
    std::string author;
    std::string created;
    std::optional<std::vector<std::string>> entrypoint;
    std::optional<std::vector<std::string>> cmd;
    std::vector<std::string> env;
    std::string user;
    std::string working_dir;
    std::vector<std::string> exposed_ports;  // keys of ExposedPorts, sorted
    std::vector<std::string> volumes;        // keys of Volumes, sorted
    std::map<std::string, std::string> labels;
    std::vector<Digest> diff_ids;
    bool has_rootfs = false;

    // Parses an image config (OCI, Docker v2, or a legacy v1 layer json). Fields of the
    // wrong type are errors; unknown fields are ignored.
    static ImageConfig parse(std::string_view json_text, const std::string& what);
};

}  // namespace d2a
