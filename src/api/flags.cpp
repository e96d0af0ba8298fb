#include "api/flags.hpp"

#include <cxxopts.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>

#include "image/platform.hpp"
#include "pipeline/batch.hpp"
#include "publish/discovery_site.hpp"
#include "util/digest.hpp"
#include "util/error.hpp"

namespace d2a::api {

namespace {

constexpr uint64_t kMaxShards = 1'000'000;
constexpr unsigned kMaxThreads = 256;

// A count in plain decimal digits: no sign (stoull would wrap "-2" around), no spaces, no
// overflow.
std::optional<uint64_t> parse_count(std::string_view text) {
    if (text.empty() || text.size() > 19) return std::nullopt;
    uint64_t value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + static_cast<uint64_t>(c - '0');
    }
    return value;
}

cxxopts::Options make_parser() {
    cxxopts::Options o("docker2aci", "Convert Docker and OCI images to App Container Images (ACI)");
    o.custom_help("[flags]");
    o.positional_help("IMAGE");
    const Limits defaults;
    // clang-format off
    o.add_options()
        ("image", "Pick one image of an archive or layout that holds several: NAME[:TAG]",
         cxxopts::value<std::string>(), "NAME[:TAG]")
        ("nosquash", "Write one ACI per layer instead of one flattened ACI")
        ("compression", "Output compression: gzip or none",
         cxxopts::value<std::string>()->default_value("gzip"), "gzip|none")
        ("compression-level", "gzip level, 1 (fastest) to 12 (smallest); the default keeps within 3% of gzip -6 on every kind of data measured",
         cxxopts::value<int>()->default_value("6"), "N")
        ("threads", "Threads for compression and layer reading (0: every core)",
         cxxopts::value<unsigned>()->default_value("0"), "N")
        ("o,output-dir", "Directory for the ACI files",
         cxxopts::value<std::string>()->default_value("."), "DIR")
        ("platform", "Platform to pick from a multi-platform image: os/arch[/variant]",
         cxxopts::value<std::string>()->default_value("linux/amd64"), "OS/ARCH")
        ("json", "Print one JSON object per generated ACI instead of the text report")
        ("q,quiet", "Print nothing but errors and the generated paths")
        ("debug", "Print what happens on stderr")
        ("insecure-skip-verify", "Do not verify registry TLS certificates")
        ("insecure-allow-http", "Use plain HTTP to talk to the registry")
        ("username", "Registry user name; the password comes from --password-stdin or "
         "DOCKER2ACI_PASSWORD", cxxopts::value<std::string>(), "NAME")
        ("password-stdin", "Read the registry password from standard input")
        ("cert-dir", "Directory of per-registry CA files, <dir>/<host[:port]>/ca.crt "
         "(besides /etc/docker/certs.d)", cxxopts::value<std::vector<std::string>>(), "DIR")
        ("parallel", "Layers downloaded at once", cxxopts::value<int>()->default_value("4"), "N")
        ("batch", "Convert every reference listed in FILE (one per line, # comments; - for standard input; may be repeated)",
         cxxopts::value<std::vector<std::string>>(), "FILE")
        ("jobs", "Images converted at once", cxxopts::value<int>()->default_value("1"), "N")
        ("shard", "Convert only slice K (0..N-1) of N of the images, e.g. $JOB_COMPLETION_INDEX/8",
         cxxopts::value<std::string>(), "K/N")
        ("cache-dir", "Blob cache shared between runs and processes", cxxopts::value<std::string>(), "DIR")
        ("force", "Convert even when the existing ACI was made from the same image")
        ("known-manifest", "Skip an image whose manifest digest is DIGEST: its ACIs are held already (may be repeated)",
         cxxopts::value<std::vector<std::string>>(), "DIGEST")
        ("sign-key", "Write NAME.aci.asc, a detached OpenPGP signature by this secret key, for rkt",
         cxxopts::value<std::string>(), "KEYID")
        ("gpg-home", "GnuPG home directory holding the signing key", cxxopts::value<std::string>(), "DIR")
        ("passphrase-file", "File whose first line is the signing key's passphrase",
         cxxopts::value<std::string>(), "FILE")
        ("discovery-url", "Make the output directory an appc discovery site served at URL: names get its host and path as a prefix (not its port: discovery looks on port 443 or 80, so a site on another port needs a reverse proxy there)", cxxopts::value<std::string>(), "URL")
        ("experimental-oci", "Accepted for compatibility; OCI support is always on")
        ("max-metadata-size", "Largest manifest, config or index accepted (bytes)",
         cxxopts::value<uint64_t>()->default_value(std::to_string(defaults.max_metadata_bytes)), "BYTES")
        ("max-unpacked-size", "Largest total of decompressed layer bytes (bytes)",
         cxxopts::value<uint64_t>()->default_value(std::to_string(defaults.max_unpacked_bytes)), "BYTES")
        ("max-compression-ratio", "Largest decompressed:compressed ratio past the first 64 MiB",
         cxxopts::value<uint64_t>()->default_value(std::to_string(defaults.max_compression_ratio)), "N")
        ("max-entries", "Most files and directories in one image",
         cxxopts::value<uint64_t>()->default_value(std::to_string(defaults.max_entries)), "N")
        ("version", "Print the version and exit")
        ("h,help", "Print this help and exit")
        ("images", "", cxxopts::value<std::vector<std::string>>());
    // clang-format on
    o.parse_positional({"images"});
    return o;
}

// The original tool used Go's flag package: "-flag", "-flag=value" and "--flag" all work.
std::vector<std::string> normalize_go_flags(int argc, const char* const* argv) {
    std::set<std::string> long_flags;
    const auto parser = make_parser();
    for (const auto& group : parser.groups()) {
        for (const auto& option : parser.group_help(group).options) {
            for (const auto& name : option.l) {
                if (name.size() > 1) long_flags.insert(name);
            }
        }
    }
    std::vector<std::string> out;
    bool positional_only = false;
    for (int i = 0; i < argc; ++i) {
        std::string a = argv[i];
        if (i > 0 && !positional_only && a == "--") positional_only = true;
        if (i > 0 && !positional_only && a.size() > 2 && a[0] == '-' && a[1] != '-') {
            std::string name =
                a.substr(1, a.find('=') == std::string::npos ? std::string::npos : a.find('=') - 1);
            if (long_flags.count(name)) a = "-" + a;
        }
        out.push_back(a);
    }
    return out;
}

}  // namespace

bool command_only(std::string_view flag) {
    for (const char* name :
         {"help", "version", "json", "quiet", "batch", "jobs", "shard", "password-stdin"}) {
        if (flag == name) return true;
    }
    return false;
}

std::optional<FlagKind> flag_kind(std::string_view name) {
    if (name == "images") return std::nullopt;  // the positional arguments, not a flag
    const auto parser = make_parser();
    for (const auto& group : parser.groups()) {
        for (const auto& option : parser.group_help(group).options) {
            for (const auto& long_name : option.l) {
                if (long_name.size() < 2 || long_name != name) continue;
                if (option.is_boolean) return FlagKind::boolean;
                return option.is_container ? FlagKind::repeated : FlagKind::value;
            }
        }
    }
    return std::nullopt;
}

std::string usage_text() {
    return make_parser().help() +
           "\nIMAGE is one of:\n"
           "  FILE          a docker save archive or OCI archive (gzip, xz, zstd allowed)\n"
           "  -             the same on standard input\n"
           "  DIRECTORY     an OCI image layout\n"
           "  docker://[REGISTRY/]NAME[:TAG|@DIGEST]   a registry image (Docker Hub by default)\n"
           "\nExamples:\n"
           "  docker save myapp:1.0 | docker2aci -\n"
           "  docker2aci --image mix3/hello:latest images.tar\n"
           "  echo \"$PASS\" | docker2aci --username me --password-stdin "
           "docker://quay.io/me/app:1.0\n"
           "\nServing a discovery site's directory over HTTP (docker2aci serve --help):\n"
           "  docker2aci serve --discovery-url URL -o DIR [--listen HOST:PORT]\n"
           "\nExit status: 0 success, 1 conversion error, 2 usage error.\n";
}

Flags parse_flags(int argc, const char* const* argv, bool need_image) {
    auto args = normalize_go_flags(argc, argv);
    std::vector<const char*> cargv;
    for (const auto& a : args) cargv.push_back(a.c_str());
    auto parser = make_parser();
    Flags o;
    try {
        auto r = parser.parse(static_cast<int>(cargv.size()), cargv.data());
        o.help = r.count("help") > 0;
        o.version = r.count("version") > 0;
        if (r.count("images")) o.images = r["images"].as<std::vector<std::string>>();
        if (r.count("image")) o.pipeline.source.image = r["image"].as<std::string>();
        o.pipeline.layered = r.count("nosquash") > 0;
        o.debug = r.count("debug") > 0;
        o.quiet = r.count("quiet") > 0;
        o.json = r.count("json") > 0;
        o.pipeline.convert.image_id = o.json;  // only --json reports it
        o.pipeline.registry.insecure_skip_verify = r.count("insecure-skip-verify") > 0;
        o.pipeline.registry.allow_http = r.count("insecure-allow-http") > 0;
        if (r.count("username"))
            o.pipeline.registry.credentials.username = r["username"].as<std::string>();
        o.password_stdin = r.count("password-stdin") > 0;
        if (r.count("cert-dir")) {
            for (const auto& d : r["cert-dir"].as<std::vector<std::string>>())
                o.pipeline.registry.cert_dirs.push_back(d);
        }
        o.pipeline.parallel = r["parallel"].as<int>();
        if (r.count("batch")) o.batch_files = r["batch"].as<std::vector<std::string>>();
        if (std::count(o.batch_files.begin(), o.batch_files.end(), "-") +
                std::count(o.images.begin(), o.images.end(), "-") >
            1) {
            throw UsageError("standard input (-) can be read once: as an image or as a batch file");
        }
        o.jobs = r["jobs"].as<int>();
        if (o.jobs < 1 || o.jobs > 64) throw UsageError("--jobs must be 1 to 64");
        o.pipeline.force = r.count("force") > 0;
        if (r.count("known-manifest")) {
            for (const auto& digest : r["known-manifest"].as<std::vector<std::string>>()) {
                try {
                    o.pipeline.known_manifests.insert(Digest::parse(digest).str());
                } catch (const Error& e) {
                    throw UsageError("--known-manifest: " + std::string(e.what()));
                }
            }
        }
        if (r.count("cache-dir")) o.pipeline.cache_dir = r["cache-dir"].as<std::string>();
        if (r.count("sign-key")) o.sign_key = r["sign-key"].as<std::string>();
        if (r.count("gpg-home")) o.gpg_home = r["gpg-home"].as<std::string>();
        if (r.count("passphrase-file")) o.passphrase_file = r["passphrase-file"].as<std::string>();
        if ((o.gpg_home || o.passphrase_file) && !o.sign_key)
            throw UsageError(std::string(o.gpg_home ? "--gpg-home" : "--passphrase-file") +
                             " needs --sign-key");
        if (r.count("discovery-url")) {
            try {
                o.pipeline.convert.site =
                    DiscoverySite::parse(r["discovery-url"].as<std::string>());
            } catch (const Error& e) {
                throw UsageError(e.what());
            }
        }
        if (r.count("shard")) {
            const std::string v = r["shard"].as<std::string>();
            const size_t slash = v.find('/');
            auto k = slash == std::string::npos ? std::nullopt : parse_count(v.substr(0, slash));
            auto n = slash == std::string::npos ? std::nullopt : parse_count(v.substr(slash + 1));
            if (!k || !n || *n == 0 || *n > kMaxShards || *k >= *n) {
                throw UsageError("--shard wants K/N with 0 <= K < N <= " +
                                 std::to_string(kMaxShards) + ", not " + v);
            }
            o.shard = std::make_pair(*k, *n);
        }
        if (o.pipeline.parallel < 1 || o.pipeline.parallel > 64)
            throw UsageError("--parallel must be 1 to 64");
        std::string compression = r["compression"].as<std::string>();
        if (compression == "gzip") {
            o.pipeline.convert.compression.kind = OutputCompression::gzip;
        } else if (compression == "none") {
            o.pipeline.convert.compression.kind = OutputCompression::none;
        } else {
            throw UsageError("unknown compression method: " + compression + " (want gzip or none)");
        }
        o.pipeline.convert.compression.level = r["compression-level"].as<int>();
        if (o.pipeline.convert.compression.level < 1 || o.pipeline.convert.compression.level > 12) {
            throw UsageError("--compression-level must be 1 to 12");
        }
        o.pipeline.convert.threads = r["threads"].as<unsigned>();
        // Threads beyond a few per core only cost memory and starve other processes.
        if (o.pipeline.convert.threads > kMaxThreads)
            throw UsageError("--threads must be 0 (every core) to " + std::to_string(kMaxThreads));
        o.pipeline.convert.output_dir = r["output-dir"].as<std::string>();
        if (o.pipeline.convert.output_dir.empty()) throw UsageError("--output-dir is empty");
        try {
            o.pipeline.source.platform = Platform::parse(r["platform"].as<std::string>());
            o.pipeline.source.platform_required = r.count("platform") > 0;
        } catch (const Error& e) {
            throw UsageError(e.what());
        }
        o.pipeline.limits.max_metadata_bytes = r["max-metadata-size"].as<uint64_t>();
        o.pipeline.limits.max_unpacked_bytes = r["max-unpacked-size"].as<uint64_t>();
        o.pipeline.limits.max_entries = r["max-entries"].as<uint64_t>();
        o.pipeline.limits.max_compression_ratio = r["max-compression-ratio"].as<uint64_t>();
    } catch (const cxxopts::exceptions::exception& e) {
        throw UsageError(e.what());
    }
    if (need_image && !o.help && !o.version && o.images.empty() && o.batch_files.empty()) {
        throw UsageError("no IMAGE given");
    }
    return o;
}

std::vector<std::string> collect_references(const Flags& options) {
    std::vector<std::string> refs = options.images;
    for (const auto& file : options.batch_files) {
        std::ifstream opened;
        if (file != "-") {
            std::error_code ec;
            if (std::filesystem::is_directory(file, ec))
                throw Error("batch file " + file + " is a directory");
            opened.open(file);
            if (!opened) throw_errno("cannot read batch file " + file);
        }
        std::istream& in = file == "-" ? std::cin : opened;
        std::string line;
        for (bool first = true; std::getline(in, line); first = false) {
            // Editors on some systems start UTF-8 files with a byte order mark.
            if (first && line.rfind("\xef\xbb\xbf", 0) == 0) line.erase(0, 3);
            auto hash = line.find('#');
            if (hash != std::string::npos) line = line.substr(0, hash);
            size_t a = line.find_first_not_of(" \t\r");
            size_t b = line.find_last_not_of(" \t\r");
            if (a == std::string::npos) continue;
            refs.push_back(line.substr(a, b - a + 1));
        }
    }
    if (options.shard) refs = select_shard(refs, options.shard->first, options.shard->second);
    return refs;
}

}  // namespace d2a::api
