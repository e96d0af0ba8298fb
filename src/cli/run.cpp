#include <chrono>
#include <mutex>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <iomanip>
#include <ostream>

#include "aci/manifest.hpp"
#include "cli/cli.hpp"
#include "source/registry_source.hpp"
#include "util/file.hpp"
#include "util/error.hpp"
#include "version.hpp"

namespace d2a::cli {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string quoted(const std::string& s) {
    return json(s).dump();
}

void print_report(std::ostream& out, const std::vector<ConvertResult>& results) {
    // The top image's manifest holds everything the layers below it add up to.
    const ConvertResult& r = results.back();
    const json& app = r.manifest.contains("app") ? r.manifest["app"] : json::object();
    if (app.contains("mountPoints")) {
        out << "\nConverted volumes:\n";
        for (const auto& mp : app["mountPoints"]) {
            out << "\tname: " << quoted(mp["name"]) << ", path: " << quoted(mp["path"])
                << ", readOnly: " << (mp["readOnly"].get<bool>() ? "true" : "false") << "\n";
        }
    }
    if (app.contains("ports")) {
        out << "\nConverted ports:\n";
        for (const auto& p : app["ports"]) {
            out << "\tname: " << quoted(p["name"]) << ", protocol: " << quoted(p["protocol"])
                << ", port: " << p["port"] << ", count: " << p["count"]
                << ", socketActivated: " << (p["socketActivated"].get<bool>() ? "true" : "false")
                << "\n";
        }
    }
    out << "\nGenerated ACI(s):\n";
    for (const auto& each : results) out << each.path.string() << "\n";
}

json json_report(const Image& image, const ConvertResult& r) {
    json j;
    j["path"] = r.path.string();
    j["imageId"] = r.image_id;
    j["size"] = r.file_bytes;
    j["name"] = r.manifest["name"];
    if (image.reference) j["reference"] = image.reference->original;
    if (image.manifest_digest) j["manifestDigest"] = *image.manifest_digest;
    j["configDigest"] = image.image_id;
    AciNaming n = aci_naming(image);
    j["platform"] = n.os + "/" + n.arch;
    j["skipped"] = false;
    return j;
}

}  // namespace

int run(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
    CliOptions options;
    try {
        options = parse_args(argc, argv);
    } catch (const UsageError& e) {
        err << "Error: " << e.what() << "\n"
            << "Usage: docker2aci [flags] IMAGE   (see docker2aci --help)\n";
        return 2;
    }
    if (options.help) {
        out << usage_text();
        return 0;
    }
    if (options.version) {
        out << "docker2aci version " << kVersion << "\nappc version " << kAppcVersion << "\n";
        return 0;
    }
    const std::string& arg = options.images.front();
    try {
        auto start = Clock::now();
        std::optional<ScratchDir> downloads;
        Image image;
        if (arg.rfind("docker://", 0) == 0) {
            if (options.source.image) throw Error("--image works only with files");
            PullOptions pull;
            pull.source = options.source;
            pull.parallel = options.parallel;
            pull.registry.insecure_skip_verify = options.insecure_skip_verify;
            pull.registry.allow_http = options.insecure_allow_http;
            pull.registry.max_manifest_bytes = options.source.limits.max_metadata_bytes;
            for (const auto& d : options.cert_dirs) pull.registry.cert_dirs.push_back(d);
            pull.registry.credentials.username = options.username;
            if (options.username) {
                if (options.password_stdin) {
                    std::string password;
                    std::getline(std::cin, password);
                    pull.registry.credentials.password = password;
                } else if (const char* p = std::getenv("DOCKER2ACI_PASSWORD")) {
                    pull.registry.credentials.password = p;
                } else {
                    throw Error("--username needs --password-stdin or DOCKER2ACI_PASSWORD");
                }
            }
            auto progress_lock = std::make_shared<std::mutex>();
            if (!options.quiet) {
                pull.progress = [&err, progress_lock](const std::string& line) {
                    std::lock_guard lock(*progress_lock);
                    err << line << "\n" << std::flush;
                };
            }
            downloads.emplace();
            image = pull_registry_image(arg.substr(9), pull, downloads->path());
        } else {
            image = open_local_image(arg, options.source);
        }
        if (options.debug) {
            err << "debug: " << image.source_kind << " image " << image.image_id << ", "
                << image.layers.size() << " layer(s)\n";
        }
        std::vector<ConvertResult> results;
        if (options.nosquash) {
            results = convert_layered(image, options.convert);
        } else {
            results.push_back(convert_squashed(image, options.convert));
        }
        if (options.debug) {
            auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
            for (const auto& r : results) {
                err << "debug: " << r.path.string() << ": " << r.stats.emitted_entries
                    << " entries, " << r.tar_bytes << " tar bytes, " << r.file_bytes
                    << " written\n";
            }
            err << "debug: done in " << ms.count() << " ms\n";
        }
        if (options.json) {
            for (const auto& r : results) out << json_report(image, r).dump() << "\n";
        } else if (options.quiet) {
            for (const auto& r : results) out << r.path.string() << "\n";
        } else {
            print_report(out, results);
        }
        return 0;
    } catch (const Error& e) {
        err << "Error: " << e.what() << "\n";
        return 1;
    } catch (const std::bad_alloc&) {
        err << "Error: out of memory\n";
        return 1;
    } catch (const std::exception& e) {
        err << "Error: internal: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace d2a::cli
