// The command line: the only code that knows argv, stdout, stderr and exit codes.
#pragma once

#include <iosfwd>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/convert_image.hpp"
#include "util/error.hpp"

namespace d2a::cli {

// A bad command line: the CLI prints it with the usage hint and exits 2.
struct UsageError : Error {
    using Error::Error;
};

// What the flags say: the library's own options (PipelineOptions, as a program calling
// the library fills them) and what only the command line has (its images and batch
// files, output style, signing key names, the password's source).
struct CliOptions {
    PipelineOptions pipeline;
    std::vector<std::string> images;
    std::vector<std::string> batch_files;
    int jobs = 1;
    std::optional<std::pair<uint64_t, uint64_t>> shard;  // (K, N), K in [0, N)
    bool debug = false;
    bool quiet = false;
    bool json = false;
    bool version = false;
    bool help = false;
    bool password_stdin = false;
    std::optional<std::string> sign_key;
    std::optional<std::string> gpg_home;
    std::optional<std::string> passphrase_file;
};

// The references to convert: the IMAGE arguments, then --batch lines (blank lines and
// # comments skipped), then the --shard slice of them.
std::vector<std::string> collect_references(const CliOptions& options);

// Throws UsageError for bad flags. Go-style single-dash long flags (-nosquash,
// -compression=none) are accepted, as the original tool's flag package did.
CliOptions parse_args(int argc, const char* const* argv);
std::string usage_text();

// What a long flag (without "--") takes, for callers that set flags by name (the C API):
// nothing (a switch), one value, or a value each time it is given; nullopt: no such flag.
enum class FlagKind { boolean, value, repeated };
std::optional<FlagKind> flag_kind(std::string_view name);

// Runs the command; returns the exit status (0 ok, 1 conversion error, 2 usage error).
int run(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace d2a::cli
