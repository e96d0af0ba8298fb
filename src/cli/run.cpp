#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <ostream>
#include <thread>

#include "aci/inspect.hpp"
#include "aci/manifest.hpp"
#include "aci/signer.hpp"
#include "cli/cli.hpp"
#include "cli/progress.hpp"
#include "source/registry_source.hpp"
#include "util/error.hpp"
#include "util/file.hpp"
#include "util/json.hpp"
#include "version.hpp"

namespace d2a::cli {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

struct Outcome {
    std::string reference;
    bool ok = false;
    bool skipped = false;
    std::string error;
    std::optional<Image> image;  // layers not usable any more; for the report
    std::vector<ConvertResult> results;
    std::filesystem::path skipped_path;
};

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

json json_base(const Outcome& o) {
    json j;
    j["reference"] = o.reference;
    if (o.image) {
        if (o.image->manifest_digest) j["manifestDigest"] = *o.image->manifest_digest;
        j["configDigest"] = o.image->image_id;
        AciNaming n = aci_naming(*o.image);
        j["platform"] = n.os + "/" + n.arch;
    }
    return j;
}

void report(std::ostream& out, std::ostream& err, const CliOptions& options, const Outcome& o,
            bool several) {
    if (options.json) {
        if (!o.ok) {
            json j = json_base(o);
            j["error"] = o.error;
            out << j.dump() << "\n";
        } else if (o.skipped) {
            json j = json_base(o);
            j["path"] = o.skipped_path.string();
            j["skipped"] = true;
            out << j.dump() << "\n";
        } else {
            for (const auto& r : o.results) {
                json j = json_base(o);
                j["path"] = r.path.string();
                j["imageId"] = r.image_id;
                j["name"] = r.manifest["name"];
                j["size"] = r.file_bytes;
                j["skipped"] = false;
                out << j.dump() << "\n";
            }
        }
    }
    if (!o.ok) {
        err << "Error: " << (several ? o.reference + ": " : "") << o.error << "\n";
        return;
    }
    if (options.json) return;
    if (o.skipped) {
        if (!options.quiet) out << "\nUnchanged since the last conversion:\n";
        out << o.skipped_path.string() << "\n";
        return;
    }
    if (options.quiet) {
        for (const auto& r : o.results) out << r.path.string() << "\n";
    } else {
        print_report(out, o.results);
    }
}

bool is_gzip_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    char magic[2] = {};
    in.read(magic, 2);
    return in && magic[0] == '\x1f' && magic[1] == '\x8b';
}

// An existing ACI made from the same source image (manifest digest, else config digest)
// in the form asked for now (compression, squashed or layered).
std::optional<std::filesystem::path> unchanged(const Image& image, const CliOptions& cli) {
    const ConvertOptions& options = cli.convert;
    AciNaming naming = aci_naming(image);
    std::filesystem::path path = aci_output_path(options, naming.file_name);
    auto manifest = read_aci_manifest(path);
    if (!manifest || !manifest->contains("annotations") || !(*manifest)["annotations"].is_array()) {
        return std::nullopt;
    }
    if (is_gzip_file(path) != (options.compression.kind == OutputCompression::gzip))
        return std::nullopt;
    bool layered = manifest->contains("dependencies");
    if (layered != (cli.nosquash && image.layers.size() > 1)) return std::nullopt;
    std::string key =
        image.manifest_digest ? "appc.io/docker/manifesthash" : "appc.io/docker/imageid";
    std::string want = image.manifest_digest ? *image.manifest_digest : image.image_id;
    for (const auto& a : (*manifest)["annotations"]) {
        if (json_string(a, "name") == key && json_string(a, "value") == want) return path;
    }
    return std::nullopt;
}

PullOptions pull_options(const CliOptions& options, DownloadObserver* observer) {
    PullOptions pull;
    pull.source = options.source;
    pull.parallel = options.parallel;
    pull.registry.insecure_skip_verify = options.insecure_skip_verify;
    pull.registry.allow_http = options.insecure_allow_http;
    pull.registry.max_manifest_bytes = options.source.limits.max_metadata_bytes;
    for (const auto& d : options.cert_dirs) pull.registry.cert_dirs.push_back(d);
    pull.registry.credentials.username = options.username;
    if (options.cache_dir) pull.cache_dir = *options.cache_dir;
    pull.observer = observer;
    return pull;
}

Outcome convert_one(const std::string& ref, const CliOptions& options, const PullOptions& pull,
                    std::ostream& err, std::mutex& err_mutex) {
    Outcome o;
    o.reference = ref;
    try {
        auto start = Clock::now();
        std::optional<RegistryPull> registry;
        Image image;
        if (ref.rfind("docker://", 0) == 0) {
            if (options.source.image) throw Error("--image works only with files");
            registry.emplace(ref.substr(9), pull);
            image = registry->image();
        } else {
            image = open_local_image(ref, options.source);
        }
        if (!options.force) {
            if (auto path = unchanged(image, options)) {
                if (options.sign_key && !std::filesystem::exists(path->string() + ".asc")) {
                    sign_aci(*path, {*options.sign_key, options.gpg_home});
                }
                o.ok = o.skipped = true;
                o.skipped_path = *path;
                o.image = std::move(image);
                return o;
            }
        }
        if (registry) {
            registry->download();
            image = registry->image();
        }
        if (options.nosquash) {
            o.results = convert_layered(image, options.convert);
        } else {
            o.results.push_back(convert_squashed(image, options.convert));
        }
        if (options.sign_key) {
            try {
                for (const auto& r : o.results)
                    sign_aci(r.path, {*options.sign_key, options.gpg_home});
            } catch (const Error&) {
                // Never leave an unsigned image where a signed one was asked for.
                for (const auto& r : o.results) {
                    std::error_code ec;
                    std::filesystem::remove(r.path, ec);
                    std::filesystem::remove(r.path.string() + ".asc", ec);
                }
                throw;
            }
        } else {
            // A signature of an earlier conversion no longer matches the new bytes.
            for (const auto& r : o.results) {
                std::error_code ec;
                std::filesystem::remove(r.path.string() + ".asc", ec);
            }
        }
        if (options.debug) {
            std::lock_guard lock(err_mutex);
            auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
            for (const auto& r : o.results) {
                err << "debug: " << r.path.string() << ": " << r.stats.emitted_entries
                    << " entries, " << r.tar_bytes << " tar bytes, " << r.file_bytes
                    << " written\n";
                if (r.write_time.count() > 0) {
                    err << "debug: " << r.path.string() << ": scan " << r.scan_time.count()
                        << " ms, write " << r.write_time.count() << " ms, sync "
                        << r.sync_time.count() << " ms\n";
                }
            }
            if (registry)
                err << "debug: " << registry->blobs_downloaded() << " blob(s) downloaded\n";
            err << "debug: " << ref << " done in " << ms.count() << " ms\n";
        }
        o.image = std::move(image);
        o.ok = true;
    } catch (const Error& e) {
        o.error = e.what();
    } catch (const std::bad_alloc&) {
        o.error = "out of memory";
    } catch (const std::exception& e) {
        o.error = std::string("internal: ") + e.what();
    }
    return o;
}

}  // namespace

int run(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
    CliOptions options;
    std::vector<std::string> refs;
    try {
        options = parse_args(argc, argv);
        if (!options.help && !options.version) refs = collect_references(options);
    } catch (const UsageError& e) {
        err << "Error: " << e.what() << "\n"
            << "Usage: docker2aci [flags] IMAGE...   (see docker2aci --help)\n";
        return 2;
    } catch (const Error& e) {
        err << "Error: " << e.what() << "\n";
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
    std::mutex err_mutex;
    std::mutex out_mutex;
    // Live bars only for one image at a time on a terminal; lines otherwise.
    std::unique_ptr<DownloadObserver> progress;
    if (!options.quiet) {
        bool terminal = ::isatty(STDERR_FILENO) && options.jobs == 1 && &err == &std::cerr;
        progress = make_progress(err, err_mutex, terminal);
    }
    PullOptions pull = pull_options(options, progress.get());
    if (options.username) {
        if (options.password_stdin) {
            std::string password;
            std::getline(std::cin, password);
            pull.registry.credentials.password = password;
        } else if (const char* p = std::getenv("DOCKER2ACI_PASSWORD")) {
            pull.registry.credentials.password = p;
        } else {
            err << "Error: --username needs --password-stdin or DOCKER2ACI_PASSWORD\n";
            return 1;
        }
    }
    const bool several = refs.size() > 1 || options.batch_file.has_value();
    std::atomic<size_t> next{0};
    std::atomic<bool> all_ok{true};
    auto worker = [&] {
        for (;;) {
            size_t i = next++;
            if (i >= refs.size()) return;
            Outcome o = convert_one(refs[i], options, pull, err, err_mutex);
            if (!o.ok) all_ok = false;
            std::scoped_lock lock(out_mutex, err_mutex);
            report(out, err, options, o, several);
            out << std::flush;
        }
    };
    std::vector<std::thread> threads;
    size_t jobs =
        std::min<size_t>(static_cast<size_t>(options.jobs), std::max<size_t>(refs.size(), 1));
    for (size_t i = 1; i < jobs; ++i) threads.emplace_back(worker);
    worker();
    for (auto& t : threads) t.join();
    return all_ok ? 0 : 1;
}

}  // namespace d2a::cli
