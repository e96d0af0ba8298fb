// The command line's flags, the one vocabulary of options: the CLI's argv, the C++ API's
// Options::set() and the C API's d2a_options_set() are all parsed here, so that a flag
// means the same whoever sets it.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/convert_image.hpp"
#include "util/error.hpp"

namespace d2a::api {

// Flags that cannot be: the CLI prints it with the usage hint and exits 2.
struct UsageError : Error {
    using Error::Error;
};

// What the flags say: the library's own options (PipelineOptions, as a program calling
// the library fills them) and what only the command line has (its images and batch
// files, output style, signing key names, the password's source).
struct Flags {
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
std::vector<std::string> collect_references(const Flags& flags);

// Throws UsageError for bad flags. Go-style single-dash long flags (-nosquash,
// -compression=none) are accepted, as the original tool's flag package did. Without
// `need_image`, no IMAGE is fine (options set one by one).
Flags parse_flags(int argc, const char* const* argv, bool need_image = true);
std::string usage_text();

// What a long flag (without "--") takes: nothing (a switch), one value, or a value each
// time it is given; nullopt: no such flag.
enum class FlagKind { boolean, value, repeated };
std::optional<FlagKind> flag_kind(std::string_view name);

// The flags that run the command rather than a conversion (not options of the APIs).
bool command_only(std::string_view flag);

}  // namespace d2a::api
