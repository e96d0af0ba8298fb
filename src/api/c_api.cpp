// The C API (include/docker2aci/docker2aci.h) over the library. Options are the command
// line's own flags, kept as "--name=value" arguments and parsed by the CLI's parser, so a
// program and the command line mean the same by every flag; a conversion is a batch of one,
// as the command line runs it (so a discovery site's pages are written too).
//
// Nothing may cross into C: every entry point catches everything, and allocation failures
// end as an error string (a preallocated one when even that cannot be made).
#include <docker2aci/docker2aci.h>

#include <exception>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cli/cli.hpp"
#include "pipeline/batch.hpp"
#include "publish/signer.hpp"
#include "util/error.hpp"
#include "version.hpp"

struct d2a_options {
    // In the order given: what parse_args() reads, after a program name.
    std::vector<std::string> args;
    std::optional<std::string> password;
    bool debug = false;
    d2a_log_fn log = nullptr;
    void* log_user = nullptr;
    std::string error;
};

struct d2a_result {
    std::optional<std::string> error;
    std::vector<std::string> paths;
    std::vector<std::string> image_ids;
    bool skipped = false;
};

namespace {

using d2a::cli::FlagKind;

// The result given when no other can be allocated: its error is static.
d2a_result out_of_memory_result{std::string(), {}, {}, false};

std::string current_error() {
    try {
        throw;
    } catch (const std::bad_alloc&) {
        return "out of memory";
    } catch (const std::exception& e) {
        return e.what();
    } catch (...) {
        return "unknown error";
    }
}

// The command line's flags that run the command rather than a conversion.
bool command_only(const std::string& flag) {
    for (const char* name :
         {"help", "version", "json", "quiet", "batch", "jobs", "shard", "password-stdin"}) {
        if (flag == name) return true;
    }
    return false;
}

std::vector<std::string>::iterator find_flag(std::vector<std::string>& args,
                                             const std::string& flag) {
    const std::string prefix = "--" + flag;
    for (auto it = args.begin(); it != args.end(); ++it) {
        if (*it == prefix || it->rfind(prefix + "=", 0) == 0) return it;
    }
    return args.end();
}

d2a::cli::CliOptions parse(const std::vector<std::string>& args, const std::string& image) {
    std::vector<const char*> argv{"docker2aci"};
    for (const auto& a : args) argv.push_back(a.c_str());
    argv.push_back("--");  // an image named like a flag stays an image
    argv.push_back(image.c_str());
    return d2a::cli::parse_args(static_cast<int>(argv.size()), argv.data());
}

// Sets `flag` in `o` or throws Error saying why not; `o` is unchanged on a throw.
void set_option(d2a_options& o, const std::string& flag, const std::string& value) {
    if (flag == "password") {
        o.password = value;
        return;
    }
    const bool is_debug = flag == "debug";
    if (command_only(flag)) {
        throw d2a::Error("\"" + flag + "\" is the command line's, not an option of a conversion");
    }
    const std::optional<FlagKind> kind = d2a::cli::flag_kind(flag);
    if (!kind) throw d2a::Error("unknown option \"" + flag + "\"");
    std::vector<std::string> args = o.args;
    if (*kind == FlagKind::boolean) {
        if (value != "true" && value != "false") {
            throw d2a::Error("option \"" + flag + "\" wants true or false, not \"" + value + "\"");
        }
        if (is_debug) {
            o.debug = value == "true";
            return;
        }
        if (auto it = find_flag(args, flag); it != args.end()) args.erase(it);
        if (value == "true") args.push_back("--" + flag);
    } else {
        if (*kind == FlagKind::value) {
            if (auto it = find_flag(args, flag); it != args.end()) args.erase(it);
        }
        args.push_back("--" + flag + "=" + value);
    }
    parse(args, "image");  // the command line's checks, on every flag at once
    o.args = std::move(args);
}

void log_to(const d2a_options& o, std::mutex& mutex, int level, const std::string& message) {
    if (!o.log) return;
    std::lock_guard lock(mutex);
    o.log(o.log_user, level, message.c_str());
}

void convert(const d2a_options& o, const std::string& image, d2a_result& result) {
    d2a::cli::CliOptions options = parse(o.args, image);
    d2a::PipelineOptions pipeline = options.pipeline;
    pipeline.convert.image_id = true;  // d2a_result_image_id() gives it
    std::mutex log_mutex;
    std::optional<d2a::Signer> signer;
    if (options.sign_key) {
        signer.emplace(
            d2a::SigningOptions{*options.sign_key, options.gpg_home, options.passphrase_file});
        if (auto why = signer->rkt_cannot_verify()) log_to(o, log_mutex, 0, *why);
        pipeline.signer = &*signer;
    }
    if (o.debug) {
        pipeline.registry.notice = [&](const std::string& message) {
            log_to(o, log_mutex, 1, d2a::Error::one_line(message));
        };
    }
    if (pipeline.registry.credentials.username) {
        if (!o.password) throw d2a::Error("option \"username\" needs option \"password\"");
        pipeline.registry.credentials.password = *o.password;
    }
    d2a::Batch batch({image}, d2a::BatchOptions{pipeline, 1});
    batch.run([&](const d2a::BatchOutcome& outcome) {
        if (!outcome.ok()) {
            result.error = outcome.error;
            return;
        }
        result.skipped = outcome.image->skipped;
        for (const auto& r : outcome.image->results) {
            result.paths.push_back(r.path.string());
            result.image_ids.push_back(r.image_id);
        }
    });
}

}  // namespace

extern "C" {

d2a_options* d2a_options_new(void) {
    return new (std::nothrow) d2a_options();
}

int d2a_options_set(d2a_options* o, const char* flag, const char* value) {
    if (!o) return -1;
    try {
        if (!flag || !value) throw d2a::Error("flag and value must not be NULL");
        set_option(*o, flag, value);
        o->error.clear();
        return 0;
    } catch (...) {
        try {
            o->error = current_error();
        } catch (...) {
            o->error.clear();  // no memory for the message: "" says nothing more
        }
        return -1;
    }
}

const char* d2a_options_error(const d2a_options* o) {
    return o ? o->error.c_str() : "no options (NULL)";
}

void d2a_options_set_log(d2a_options* o, d2a_log_fn log, void* user) {
    if (!o) return;
    o->log = log;
    o->log_user = user;
}

d2a_result* d2a_convert(const d2a_options* o, const char* image) {
    d2a_result* result = new (std::nothrow) d2a_result();
    if (!result) return &out_of_memory_result;
    try {
        if (!o) throw d2a::Error("no options (NULL)");
        if (!image) throw d2a::Error("no image (NULL)");
        convert(*o, image, *result);
    } catch (...) {
        try {
            result->paths.clear();
            result->image_ids.clear();
            result->error = current_error();
        } catch (...) {
            delete result;
            return &out_of_memory_result;
        }
    }
    if (result->error) {
        result->paths.clear();
        result->image_ids.clear();
    }
    return result;
}

const char* d2a_result_error(const d2a_result* r) {
    if (!r) return "no result (NULL)";
    if (r == &out_of_memory_result) return "out of memory";
    return r->error ? r->error->c_str() : nullptr;
}

size_t d2a_result_count(const d2a_result* r) {
    return r ? r->paths.size() : 0;
}

const char* d2a_result_path(const d2a_result* r, size_t i) {
    return r && i < r->paths.size() ? r->paths[i].c_str() : nullptr;
}

const char* d2a_result_image_id(const d2a_result* r, size_t i) {
    return r && i < r->image_ids.size() ? r->image_ids[i].c_str() : nullptr;
}

int d2a_result_skipped(const d2a_result* r) {
    return r && r->skipped ? 1 : 0;
}

void d2a_result_free(d2a_result* r) {
    if (r != &out_of_memory_result) delete r;
}

void d2a_options_free(d2a_options* o) {
    delete o;
}

const char* d2a_version(void) {
    return d2a::kVersion;
}

}  // extern "C"
