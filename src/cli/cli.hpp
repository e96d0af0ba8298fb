// The command line: the only code that knows argv, stdout, stderr and exit codes.
#pragma once

#include <iosfwd>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "pipeline/converter.hpp"
#include "source/options.hpp"
#include "util/error.hpp"

namespace d2a::cli {

// A bad command line: the CLI prints it with the usage hint and exits 2.
struct UsageError : Error {
    using Error::Error;
};

struct CliOptions {
    std::vector<std::string> images;
    bool nosquash = false;
    bool debug = false;
    bool quiet = false;
    bool json = false;
    bool version = false;
    bool help = false;
    bool insecure_skip_verify = false;
    bool insecure_allow_http = false;
    std::optional<std::string> username;
    bool password_stdin = false;
    std::vector<std::string> cert_dirs;
    int parallel = 4;
    std::vector<std::string> batch_files;
    int jobs = 1;
    bool force = false;
    std::optional<std::pair<uint64_t, uint64_t>> shard;  // (K, N), K in [0, N)
    std::optional<std::string> cache_dir;
    std::optional<std::string> sign_key;
    std::optional<std::string> gpg_home;
    std::optional<std::string> passphrase_file;
    SourceOptions source;
    ConvertOptions convert;
    Limits limits;
};

// The references to convert: the IMAGE arguments, then --batch lines (blank lines and
// # comments skipped), then the --shard slice of them.
std::vector<std::string> collect_references(const CliOptions& options);

// Throws UsageError for bad flags. Go-style single-dash long flags (-nosquash,
// -compression=none) are accepted, as the original tool's flag package did.
CliOptions parse_args(int argc, const char* const* argv);
std::string usage_text();

// Runs the command; returns the exit status (0 ok, 1 conversion error, 2 usage error).
int run(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace d2a::cli
