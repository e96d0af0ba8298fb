// The C++ API (include/docker2aci/docker2aci.hpp) over the library. Options are the
// command line's flags, kept as arguments and parsed again by its parser on every set
// (api/flags.hpp), so a program and the command line mean the same by every flag. A
// conversion is a batch of one, as the command line runs it (a discovery site's pages
// are written too). The library's own errors become the API's at this boundary: a
// caller catches docker2aci::Error, never an internal type.
#include <algorithm>
#include <docker2aci/docker2aci.hpp>
#include <filesystem>
#include <mutex>
#include <optional>
#include <system_error>

#include "aci/manifest.hpp"
#include "api/flags.hpp"
#include "pipeline/batch.hpp"
#include "publish/signer.hpp"
#include "source/registry_source.hpp"
#include "util/error.hpp"
#include "version.hpp"

namespace docker2aci {

Error::Error(const std::string& what) : std::runtime_error(what) {}
Error::~Error() = default;
UsageError::UsageError(const std::string& what) : Error(what) {}
UsageError::~UsageError() = default;
DownloadProgress::~DownloadProgress() = default;

struct Options::Impl {
    // The flags in the order given ("--name=value", or a parsed command line's argv).
    std::vector<std::string> args;
    d2a::api::Flags flags;  // args, parsed
    std::optional<std::string> password;
    LogFunction log;
    DownloadProgress* progress = nullptr;
    bool image_ids = true;
};

namespace {

// Runs fn; the library's errors leave as the API's.
template <class F>
auto translated(F&& fn) -> decltype(fn()) {
    try {
        return fn();
    } catch (const d2a::api::UsageError& e) {
        throw UsageError(e.what());
    } catch (const d2a::Error& e) {
        throw Error(e.what());
    } catch (const std::system_error& e) {  // a thread or a file the library could not have
        throw Error(e.what());
    }
}

d2a::api::Flags parse(const std::vector<std::string>& args) {
    std::vector<const char*> argv{"docker2aci"};
    for (const auto& a : args) argv.push_back(a.c_str());
    return d2a::api::parse_flags(static_cast<int>(argv.size()), argv.data(), false);
}

bool is_flag(const std::string& arg, const std::string& flag) {
    const std::string spelled = "--" + flag;
    return arg == spelled || arg.rfind(spelled + "=", 0) == 0;
}

// Hands a pull's download events to the caller's DownloadProgress.
class ProgressAdapter final : public d2a::DownloadObserver {
  public:
    explicit ProgressAdapter(DownloadProgress& to) : to_(to) {}
    void started(const std::vector<d2a::Descriptor>& blobs) override {
        std::vector<DownloadProgress::Blob> out;
        out.reserve(blobs.size());
        for (const auto& b : blobs) out.push_back(blob(b));
        to_.started(out);
    }
    void progress(size_t index, const d2a::Descriptor& b, uint64_t bytes) override {
        to_.progress(index, blob(b), bytes);
    }
    void finished(size_t index, const d2a::Descriptor& b, uint64_t bytes,
                  bool from_cache) override {
        to_.finished(index, blob(b), bytes, from_cache);
    }

  private:
    static DownloadProgress::Blob blob(const d2a::Descriptor& d) {
        return {d.digest.str(), d.size};
    }
    DownloadProgress& to_;
};

Outcome outcome_of(const d2a::BatchOutcome& from, bool site) {
    Outcome out;
    out.index = from.index;
    out.reference = from.reference;
    out.error = from.error;
    out.elapsed = from.elapsed;
    if (!from.image) return out;
    const d2a::ImageOutcome& converted = *from.image;
    const d2a::Image& image = converted.image;
    out.manifest_digest = image.manifest_digest.value_or("");
    out.config_digest = image.image_id;
    const d2a::AciNaming naming = d2a::aci_naming(image);
    out.platform = naming.os + "/" + naming.arch;
    out.from_registry = image.source_kind == d2a::SourceKind::registry;
    out.blobs_downloaded = converted.blobs_downloaded;
    out.skipped = converted.skipped;
    for (const auto& path : converted.skipped_paths) {
        Aci aci;
        aci.path = path.string();
        std::error_code ec;
        const auto size = std::filesystem::file_size(path, ec);
        aci.size = ec ? 0 : size;
        out.acis.push_back(std::move(aci));
    }
    for (const auto& r : converted.results) {
        Aci aci;
        aci.path = r.path.string();
        aci.image_id = r.image_id;
        if (r.manifest.contains("name") && r.manifest["name"].is_string())
            aci.name = r.manifest["name"].get<std::string>();
        if (site) aci.discovery_name = aci.name + ":" + naming.version;
        aci.manifest = r.manifest.dump();
        aci.size = r.file_bytes;
        aci.tar_bytes = r.tar_bytes;
        aci.entries = r.stats.emitted_entries;
        aci.scan_time = r.scan_time;
        aci.write_time = r.write_time;
        aci.sync_time = r.sync_time;
        out.acis.push_back(std::move(aci));
    }
    return out;
}

}  // namespace

Options::Options() : impl_(std::make_unique<Impl>()) {}
Options::~Options() = default;
Options::Options(const Options& other) : impl_(std::make_unique<Impl>(*other.impl_)) {}
Options& Options::operator=(const Options& other) {
    if (this != &other) impl_ = std::make_unique<Impl>(*other.impl_);
    return *this;
}
Options::Options(Options&& other) noexcept = default;
Options& Options::operator=(Options&& other) noexcept = default;

Options& Options::set(std::string_view flag_name, std::string_view value_text) {
    translated([&] {
        const std::string flag(flag_name);
        const std::string value(value_text);
        if (flag == "password") {
            impl_->password = value;
            return;
        }
        if (d2a::api::command_only(flag)) {
            throw UsageError("\"" + flag +
                             "\" is the command line's, not an option of a conversion");
        }
        const std::optional<d2a::api::FlagKind> kind = d2a::api::flag_kind(flag);
        if (!kind) throw UsageError("unknown option \"" + flag + "\"");
        std::vector<std::string> args = impl_->args;
        // Flags go before a "--" that ends a parsed command line's flags. A flag given
        // again replaces (the parser keeps the last value); a switch set to false must go.
        auto end_of_flags = [&] { return std::find(args.begin(), args.end(), std::string("--")); };
        auto drop_flag = [&] {
            const auto stop = end_of_flags();
            args.erase(std::remove_if(args.begin(), stop,
                                      [&](const std::string& a) { return is_flag(a, flag); }),
                       stop);
        };
        if (*kind == d2a::api::FlagKind::boolean) {
            if (value != "true" && value != "false") {
                throw UsageError("option \"" + flag + "\" wants true or false, not \"" + value +
                                 "\"");
            }
            drop_flag();
            if (value == "true") args.insert(end_of_flags(), "--" + flag);
        } else {
            if (*kind == d2a::api::FlagKind::value) drop_flag();
            args.insert(end_of_flags(), "--" + flag + "=" + value);
        }
        d2a::api::Flags parsed = parse(args);  // the command line's checks, on every flag
        impl_->args = std::move(args);
        impl_->flags = std::move(parsed);
    });
    return *this;
}

Options& Options::set_log(LogFunction log) {
    impl_->log = std::move(log);
    return *this;
}

Options& Options::set_progress(DownloadProgress* progress) {
    impl_->progress = progress;
    return *this;
}

Options& Options::set_image_ids(bool compute) {
    impl_->image_ids = compute;
    return *this;
}

struct Batch::Impl {
    LogFunction log;
    std::mutex log_mutex;
    bool site = false;
    std::unique_ptr<ProgressAdapter> progress;
    std::optional<d2a::Signer> signer;
    std::unique_ptr<d2a::Batch> batch;  // last: it uses the members above

    void say(LogLevel level, const std::string& message) {
        if (!log) return;
        std::lock_guard lock(log_mutex);
        log(level, message);
    }
};

Batch::Batch(const Options& options, std::vector<std::string> images, int jobs)
    : impl_(std::make_unique<Impl>()) {
    translated([&] {
        const Options::Impl& in = *options.impl_;
        const d2a::api::Flags& flags = in.flags;
        if (jobs < 1 || jobs > 64) throw UsageError("jobs must be 1 to 64");
        Impl& self = *impl_;
        self.log = in.log;
        self.site = flags.pipeline.convert.site.has_value();
        d2a::PipelineOptions pipeline = flags.pipeline;
        pipeline.convert.image_id = in.image_ids;
        if (in.progress) {
            self.progress = std::make_unique<ProgressAdapter>(*in.progress);
            pipeline.observer = self.progress.get();
        }
        if (flags.debug) {
            pipeline.registry.notice = [&self](const std::string& message) {
                self.say(LogLevel::debug, d2a::Error::one_line(message));
            };
        }
        if (pipeline.registry.credentials.username) {
            if (!in.password) throw UsageError("option \"username\" needs option \"password\"");
            pipeline.registry.credentials.password = *in.password;
        }
        if (flags.sign_key) {
            self.signer.emplace(
                d2a::SigningOptions{*flags.sign_key, flags.gpg_home, flags.passphrase_file});
            // Before any image: a mirror whose every signature rkt refuses is worth a line.
            if (auto why = self.signer->rkt_cannot_verify()) self.say(LogLevel::warning, *why);
            pipeline.signer = &*self.signer;
        }
        self.batch = std::make_unique<d2a::Batch>(std::move(images),
                                                  d2a::BatchOptions{std::move(pipeline), jobs});
    });
}

Batch::~Batch() = default;

bool Batch::run(const std::function<void(const Outcome&)>& each) {
    return translated([&] {
        return impl_->batch->run(
            [&](const d2a::BatchOutcome& outcome) { each(outcome_of(outcome, impl_->site)); });
    });
}

std::vector<Outcome> Batch::stop_reporting(const std::string& why) {
    std::vector<Outcome> out;
    for (d2a::BatchOutcome& stopped : impl_->batch->stop_reporting()) {
        stopped.error = why;
        out.push_back(outcome_of(stopped, impl_->site));
    }
    if (impl_->signer) impl_->signer->stop_started_agent();
    return out;
}

Outcome convert(const Options& options, const std::string& image) {
    Batch batch(options, {image}, 1);
    Outcome outcome;
    batch.run([&](const Outcome& o) { outcome = o; });
    if (!outcome.ok()) throw Error(outcome.error);
    return outcome;
}

CommandLine parse_command_line(int argc, const char* const* argv) {
    return translated([&] {
        d2a::api::Flags flags = d2a::api::parse_flags(argc, argv);
        CommandLine line;
        if (!flags.help && !flags.version) line.images = d2a::api::collect_references(flags);
        Options::Impl& options = *line.options.impl_;
        // Flags set later go after these (before a "--"): the last of a value wins.
        options.args.assign(argv + 1, argv + argc);
        options.image_ids = flags.json;  // only --json reports them
        line.several = line.images.size() > 1 || !flags.batch_files.empty();
        line.jobs = flags.jobs;
        line.json = flags.json;
        line.quiet = flags.quiet;
        line.debug = flags.debug;
        line.help = flags.help;
        line.version = flags.version;
        line.discovery_site = flags.pipeline.convert.site.has_value();
        line.password_stdin = flags.password_stdin;
        line.needs_password = flags.pipeline.registry.credentials.username.has_value();
        options.flags = std::move(flags);
        return line;
    });
}

std::string usage() {
    return d2a::api::usage_text();
}

std::string version() {
    return d2a::kVersion;
}

std::string appc_version() {
    return d2a::kAppcVersion;
}

}  // namespace docker2aci
