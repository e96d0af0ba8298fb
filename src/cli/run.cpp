#include <string.h>
#include <unistd.h>

#include <cstdlib>
#include <docker2aci/docker2aci.hpp>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>

#include "cli/cli.hpp"
#include "cli/interrupts.hpp"
#include "cli/progress.hpp"

namespace docker2aci::cli {

namespace {

using nlohmann::json;

std::string quoted(const std::string& s) {
    return json(s).dump();
}

void print_report(std::ostream& out, const std::vector<Aci>& acis) {
    // The top image's manifest holds everything the layers below it add up to.
    const json manifest = json::parse(acis.back().manifest, nullptr, false);
    const json app =
        manifest.is_object() && manifest.contains("app") ? manifest["app"] : json::object();
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
    for (const auto& each : acis) out << each.path << "\n";
}

json json_base(const Outcome& o) {
    json j;
    j["reference"] = o.reference;
    if (!o.config_digest.empty()) {
        if (!o.manifest_digest.empty()) j["manifestDigest"] = o.manifest_digest;
        j["configDigest"] = o.config_digest;
        j["platform"] = o.platform;
    }
    return j;
}

void report(std::ostream& out, std::ostream& err, const CommandLine& line, const Outcome& o) {
    if (line.json) {
        if (!o.ok()) {
            json j = json_base(o);
            j["error"] = o.error;
            out << j.dump() << "\n";
        } else if (o.skipped) {
            json j = json_base(o);
            if (!o.acis.empty()) j["path"] = o.acis.back().path;
            j["skipped"] = true;
            out << j.dump() << "\n";
        } else {
            for (const auto& a : o.acis) {
                json j = json_base(o);
                j["path"] = a.path;
                j["imageId"] = a.image_id;
                j["name"] = a.name;
                if (line.discovery_site) j["discoveryName"] = a.discovery_name;
                j["size"] = a.size;
                j["skipped"] = false;
                out << j.dump() << "\n";
            }
        }
    }
    if (!o.ok()) {
        // In a batch each line names its image, unless the error already starts with it.
        const bool named = o.error.rfind(o.reference + ":", 0) == 0;
        err << "Error: " << (line.several && !named ? o.reference + ": " : "") << o.error << "\n";
        return;
    }
    if (line.json) return;
    if (o.skipped) {
        if (o.acis.empty()) {  // its manifest is one the caller holds
            if (!line.quiet) out << "\nSkipped (a known manifest): " << o.reference << "\n";
            return;
        }
        if (!line.quiet) out << "\nUnchanged since the last conversion:\n";
        out << o.acis.back().path << "\n";
        return;
    }
    if (line.quiet) {
        for (const auto& a : o.acis) out << a.path << "\n";
    } else {
        print_report(out, o.acis);
    }
}

void print_debug(std::ostream& err, const Outcome& o) {
    for (const auto& a : o.acis) {
        err << "debug: " << a.path << ": " << a.entries << " entries, " << a.tar_bytes
            << " tar bytes, " << a.size << " written\n";
        if (a.write_time.count() > 0) {
            err << "debug: " << a.path << ": scan " << a.scan_time.count() << " ms, write "
                << a.write_time.count() << " ms, sync " << a.sync_time.count() << " ms\n";
        }
    }
    if (o.from_registry) err << "debug: " << o.blobs_downloaded << " blob(s) downloaded\n";
    err << "debug: " << o.reference << " done in " << o.elapsed.count() << " ms\n";
}

// --username's password: a line of standard input, or DOCKER2ACI_PASSWORD (never a flag,
// which other users could read in the process list).
std::optional<std::string> read_password(const CommandLine& line) {
    if (line.password_stdin) {
        std::string password;
        std::getline(std::cin, password);
        return password;
    }
    if (const char* p = std::getenv("DOCKER2ACI_PASSWORD")) return std::string(p);
    return std::nullopt;
}

}  // namespace

int run(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
    CommandLine line;
    try {
        line = parse_command_line(argc, argv);
    } catch (const UsageError& e) {
        err << "Error: " << e.what() << "\n"
            << "Usage: docker2aci [flags] IMAGE...   (see docker2aci --help)\n";
        return 2;
    } catch (const Error& e) {
        err << "Error: " << e.what() << "\n";
        return 2;
    }
    if (line.help) {
        out << usage();
        return 0;
    }
    if (line.version) {
        out << "docker2aci version " << version() << "\nappc version " << appc_version() << "\n";
        return 0;
    }
    std::mutex err_mutex;
    Options& options = line.options;
    // Live bars only for one image at a time on a terminal; lines otherwise.
    std::unique_ptr<DownloadProgress> progress;
    if (!line.quiet) {
        bool terminal = ::isatty(STDERR_FILENO) && line.jobs == 1 && &err == &std::cerr;
        progress = make_progress(err, err_mutex, terminal);
        options.set_progress(progress.get());
    }
    options.set_log([&](LogLevel level, const std::string& message) {
        std::lock_guard lock(err_mutex);
        err << (level == LogLevel::warning ? "warning: " : "debug: ") << message << "\n";
    });
    if (line.needs_password) {
        std::optional<std::string> password = read_password(line);
        if (!password) {
            err << "Error: --username needs --password-stdin or DOCKER2ACI_PASSWORD\n";
            return 1;
        }
        options.set("password", *password);
    }
    std::optional<Batch> batch;
    try {
        batch.emplace(options, line.images, line.jobs);
    } catch (const Error& e) {
        err << "Error: " << e.what() << "\n";
        return 1;
    }
    // Only for the process's own streams: a program calling run() keeps its signals.
    std::optional<InterruptWatcher> interrupts;
    if (&out == &std::cout && &err == &std::cerr) {
        interrupts.emplace([&](int signal) {
            // The batch reports nothing more, nor does progress; each image in progress
            // gets its line. (The locks are kept until the process exits.)
            std::vector<Outcome> stopped =
                batch->stop_reporting(std::string("interrupted by SIG") + sigabbrev_np(signal) +
                                      " before it was converted");
            err_mutex.lock();
            for (const Outcome& o : stopped) report(out, err, line, o);
            out << std::flush;
            err << std::flush;
        });
    }
    bool all_ok = false;
    try {
        all_ok = batch->run([&](const Outcome& o) {
            std::lock_guard lock(err_mutex);  // progress lines share stderr
            if (line.debug && o.ok()) print_debug(err, o);
            report(out, err, line, o);
            out << std::flush;
        });
    } catch (const Error& e) {
        err << "Error: " << e.what() << "\n";
        return 1;
    }
    return all_ok ? 0 : 1;
}

}  // namespace docker2aci::cli
