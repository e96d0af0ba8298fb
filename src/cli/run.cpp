#include <string.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <optional>
#include <ostream>

#include "aci/manifest.hpp"
#include "cli/cli.hpp"
#include "cli/interrupts.hpp"
#include "cli/progress.hpp"
#include "pipeline/batch.hpp"
#include "publish/signer.hpp"
#include "util/error.hpp"
#include "util/file.hpp"
#include "util/json.hpp"
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

json json_base(const BatchOutcome& o) {
    json j;
    j["reference"] = o.reference;
    if (o.image) {
        const Image& image = o.image->image;
        if (image.manifest_digest) j["manifestDigest"] = *image.manifest_digest;
        j["configDigest"] = image.image_id;
        AciNaming n = aci_naming(image);
        j["platform"] = n.os + "/" + n.arch;
    }
    return j;
}

void report(std::ostream& out, std::ostream& err, const CliOptions& options, const BatchOutcome& o,
            bool several) {
    if (options.json) {
        if (!o.ok()) {
            json j = json_base(o);
            j["error"] = o.error;
            out << j.dump() << "\n";
        } else if (o.image->skipped) {
            json j = json_base(o);
            j["path"] = o.image->skipped_paths.back().string();
            j["skipped"] = true;
            out << j.dump() << "\n";
        } else {
            for (const auto& r : o.image->results) {
                json j = json_base(o);
                j["path"] = r.path.string();
                j["imageId"] = r.image_id;
                j["name"] = r.manifest["name"];
                if (options.pipeline.convert.site) {
                    j["discoveryName"] = r.manifest["name"].get<std::string>() + ":" +
                                         aci_naming(o.image->image).version;
                }
                j["size"] = r.file_bytes;
                j["skipped"] = false;
                out << j.dump() << "\n";
            }
        }
    }
    if (!o.ok()) {
        // In a batch each line names its image, unless the error already starts with it.
        const bool named = o.error.rfind(o.reference + ":", 0) == 0;
        err << "Error: " << (several && !named ? o.reference + ": " : "") << o.error << "\n";
        return;
    }
    if (options.json) return;
    if (o.image->skipped) {
        if (!options.quiet) out << "\nUnchanged since the last conversion:\n";
        out << o.image->skipped_paths.back().string() << "\n";
        return;
    }
    if (options.quiet) {
        for (const auto& r : o.image->results) out << r.path.string() << "\n";
    } else {
        print_report(out, o.image->results);
    }
}

void print_debug(std::ostream& err, const std::string& ref, const ImageOutcome& image,
                 std::chrono::milliseconds elapsed) {
    for (const auto& r : image.results) {
        err << "debug: " << r.path.string() << ": " << r.stats.emitted_entries << " entries, "
            << r.tar_bytes << " tar bytes, " << r.file_bytes << " written\n";
        if (r.write_time.count() > 0) {
            err << "debug: " << r.path.string() << ": scan " << r.scan_time.count() << " ms, write "
                << r.write_time.count() << " ms, sync " << r.sync_time.count() << " ms\n";
        }
    }
    if (image.image.source_kind == SourceKind::registry)
        err << "debug: " << image.blobs_downloaded << " blob(s) downloaded\n";
    err << "debug: " << ref << " done in " << elapsed.count() << " ms\n";
}

// --username's password: a line of standard input, or DOCKER2ACI_PASSWORD (never a flag,
// which other users could read in the process list).
std::optional<std::string> read_password(const CliOptions& options) {
    if (options.password_stdin) {
        std::string password;
        std::getline(std::cin, password);
        return password;
    }
    if (const char* p = std::getenv("DOCKER2ACI_PASSWORD")) return std::string(p);
    return std::nullopt;
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
    // Live bars only for one image at a time on a terminal; lines otherwise.
    std::unique_ptr<DownloadObserver> progress;
    if (!options.quiet) {
        bool terminal = ::isatty(STDERR_FILENO) && options.jobs == 1 && &err == &std::cerr;
        progress = make_progress(err, err_mutex, terminal);
    }
    std::optional<Signer> signer;
    if (options.sign_key) {
        try {
            signer.emplace(
                SigningOptions{*options.sign_key, options.gpg_home, options.passphrase_file});
        } catch (const Error& e) {
            err << "Error: " << e.what() << "\n";
            return 1;
        }
        // Before any image: a mirror whose every signature rkt refuses is worth a line.
        if (auto why = signer->rkt_cannot_verify()) err << "warning: " << *why << "\n";
    }
    PipelineOptions pipeline = options.pipeline;
    pipeline.observer = progress.get();
    pipeline.signer = signer ? &*signer : nullptr;
    if (options.debug) {
        pipeline.registry.notice = [&](const std::string& message) {
            std::lock_guard lock(err_mutex);
            err << "debug: " << Error::one_line(message) << "\n";
        };
    }
    if (options.pipeline.registry.credentials.username) {
        std::optional<std::string> password = read_password(options);
        if (!password) {
            err << "Error: --username needs --password-stdin or DOCKER2ACI_PASSWORD\n";
            return 1;
        }
        pipeline.registry.credentials.password = *password;
    }
    const bool several = refs.size() > 1 || !options.batch_files.empty();
    Batch batch(refs, BatchOptions{pipeline, options.jobs});
    // Only for the process's own streams: a program calling run() keeps its signals.
    std::optional<InterruptWatcher> interrupts;
    if (&out == &std::cout && &err == &std::cerr) {
        interrupts.emplace([&](int signal) {
            // The batch reports nothing more, nor does progress; each image in progress
            // gets its line. (The locks are kept until the process exits.)
            std::vector<BatchOutcome> stopped = batch.stop_reporting();
            err_mutex.lock();
            for (BatchOutcome& o : stopped) {
                o.error = std::string("interrupted by SIG") + sigabbrev_np(signal) +
                          " before it was converted";
                report(out, err, options, o, several);
            }
            out << std::flush;
            err << std::flush;
            if (signer) signer->stop_started_agent();
        });
    }
    bool all_ok = false;
    try {
        all_ok = batch.run([&](const BatchOutcome& o) {
            std::lock_guard lock(err_mutex);  // progress lines share stderr
            if (options.debug && o.ok()) print_debug(err, o.reference, *o.image, o.elapsed);
            report(out, err, options, o, several);
            out << std::flush;
        });
    } catch (const Error& e) {
        err << "Error: " << e.what() << "\n";
        return 1;
    }
    return all_ok ? 0 : 1;
}

}  // namespace d2a::cli
