/* docker2aci's C++ API: Docker and OCI images to App Container Images (ACI).
 *
 * What the command line does, for a program: options set by the command line's own flag
 * names (so a flag and an option always mean the same), one image converted or a batch
 * of them, each image's outcome (paths, image IDs, names, manifests), and what the
 * library has to say (warnings, debug lines, download progress) through callbacks
 * instead of stderr. The `docker2aci` program is written against this header alone.
 *
 * Every failure is a docker2aci::Error (one line: what and why); options that cannot be
 * set are its subclass UsageError. Each call says what it throws. Calls on one object
 * are not made from several threads at once; distinct objects are independent.
 *
 * The C API for other languages is <docker2aci/docker2aci.h>. */
#ifndef DOCKER2ACI_DOCKER2ACI_HPP
#define DOCKER2ACI_DOCKER2ACI_HPP

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#if defined(__GNUC__)
#define D2A_CXX_API __attribute__((visibility("default")))
#else
#define D2A_CXX_API
#endif

namespace docker2aci {

// A conversion, an option or the library failed; what() is one line.
class D2A_CXX_API Error : public std::runtime_error {
  public:
    explicit Error(const std::string& what);
    ~Error() override;
};

// An option that does not exist, a value it cannot take, or options that do not go
// together (the command line's exit status 2).
class D2A_CXX_API UsageError : public Error {
  public:
    explicit UsageError(const std::string& what);
    ~UsageError() override;
};

enum class LogLevel {
    warning = 0,  // always: e.g. a signing key whose signatures rkt cannot verify
    debug = 1,    // with the "debug" option: retries, stalls, cache decisions
};
// Called from any of the library's threads, one call at a time.
using LogFunction = std::function<void(LogLevel level, const std::string& message)>;

// Layer downloads of registry pulls, told from the downloading threads (one image's
// calls come one at a time; a batch's images may call at once).
class D2A_CXX_API DownloadProgress {
  public:
    struct Blob {
        std::string digest;  // "sha256:..."
        uint64_t size = 0;   // as the manifest gives it (0: unknown)
    };
    virtual ~DownloadProgress();
    // The blobs one image will download; `index` below is a position in this list.
    virtual void started(const std::vector<Blob>& blobs) = 0;
    virtual void progress(size_t index, const Blob& blob, uint64_t bytes) = 0;
    virtual void finished(size_t index, const Blob& blob, uint64_t bytes, bool from_cache) = 0;
};

// What a conversion is asked to do: the command line's flags, by name.
class D2A_CXX_API Options {
  public:
    Options();
    ~Options();
    Options(const Options& other);
    Options& operator=(const Options& other);
    Options(Options&& other) noexcept;
    Options& operator=(Options&& other) noexcept;

    // Sets the flag `flag` (its long name without "--": "output-dir", "compression",
    // "platform", "cache-dir", "sign-key", "known-manifest"...) to `value`; a switch
    // ("nosquash", "force", "debug", "insecure-allow-http") takes "true" or "false"; a
    // flag that may be repeated ("cert-dir", "known-manifest") adds a value each time.
    // "password" is the registry password for "username" (the command line reads it
    // from standard input). The command line's own flags ("json", "quiet", "jobs",
    // "batch", "shard", "help", "version", "password-stdin") are not options.
    // Throws UsageError, leaving the options as they were.
    Options& set(std::string_view flag, std::string_view value);
    // Where warnings and debug lines go (by default nowhere).
    Options& set_log(LogFunction log);
    // Told of layer downloads; not owned, must outlive the conversions (default: none).
    Options& set_progress(DownloadProgress* progress);
    // Whether each ACI's image ID (SHA-512 of its tar, as rkt computes it) is computed:
    // about a sixth of a large conversion's CPU. On by default.
    Options& set_image_ids(bool compute);

  private:
    friend class Batch;
    friend struct CommandLine parse_command_line(int argc, const char* const* argv);
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// One ACI an image was converted to (or, when skipped, found in place).
struct Aci {
    std::string path;
    std::string image_id;        // "sha512-<hex>" (empty when skipped or not computed)
    std::string name;            // the AC name
    std::string discovery_name;  // "name:version" with a discovery site, else empty
    std::string manifest;        // the image manifest, JSON (empty when skipped)
    uint64_t size = 0;           // bytes in the file
    // How it went, for reports: bytes of its tar, entries in it, and where the time went
    // (reading layer headers, writing, flushing to disk).
    uint64_t tar_bytes = 0;
    uint64_t entries = 0;
    std::chrono::milliseconds scan_time{0}, write_time{0}, sync_time{0};
};

// How one image ended.
struct Outcome {
    size_t index = 0;       // in the batch (0 for convert())
    std::string reference;  // as given
    std::string error;      // empty on success
    // The image was not converted: the ACIs in place were made from it (their paths are
    // in `acis`), or its manifest digest is one of the "known-manifest" values (`acis`
    // empty: the caller has it already).
    bool skipped = false;
    std::vector<Aci> acis;  // the top (or only) ACI last
    // As the image was resolved (empty if it never was).
    std::string manifest_digest;
    std::string config_digest;
    std::string platform;  // appc's "os/arch", e.g. "linux/amd64"
    bool from_registry = false;
    size_t blobs_downloaded = 0;  // not found in the cache
    std::chrono::milliseconds elapsed{0};
    [[nodiscard]] bool ok() const { return error.empty(); }
};

// Converts one image: a docker save or OCI archive FILE, "-" for standard input, an OCI
// layout DIRECTORY, or docker://[REGISTRY/]NAME[:TAG|@DIGEST]. With a discovery site its
// pages are written too. Throws UsageError for options that do not go together, Error
// when the image cannot be converted (nothing is left in the output directory).
D2A_CXX_API Outcome convert(const Options& options, const std::string& image);

// Many images, `jobs` at a time; file names are claimed in list order (two images of one
// file name: the later one fails), a discovery site's pages are written once at the end.
class D2A_CXX_API Batch {
  public:
    // Throws UsageError (jobs outside 1..64, "username" without "password") and Error (a
    // signing key that cannot sign) before any image is looked at.
    Batch(const Options& options, std::vector<std::string> images, int jobs = 1);
    ~Batch();
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;

    // Converts every image; `each` is called once per image as it ends, one call at a
    // time. True when every image converted or was skipped. A failed image is an
    // Outcome, not a throw; throws Error only when the site's pages cannot be written.
    bool run(const std::function<void(const Outcome&)>& each);
    // For a process about to exit on a signal (from any thread): no outcome is reported
    // after this returns; gives the images in progress (error: "interrupted") and stops
    // the gpg-agent signing started.
    std::vector<Outcome> stop_reporting(const std::string& why);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// docker2aci's own command line, parsed, for programs that take its flags.
struct CommandLine {
    Options options;  // every conversion flag; image IDs only with --json
    // The IMAGE arguments, then each --batch file's references, then the --shard slice.
    std::vector<std::string> images;
    bool several = false;  // more than one IMAGE, or a --batch file: reports name images
    int jobs = 1;
    bool json = false, quiet = false, debug = false, help = false, version = false;
    bool discovery_site = false;  // --discovery-url: outcomes carry discovery names
    bool password_stdin = false;
    bool needs_password = false;  // --username: set "password" before converting
};
// Throws UsageError for bad flags, Error for a --batch file that cannot be read.
D2A_CXX_API CommandLine parse_command_line(int argc, const char* const* argv);
// --help's text.
D2A_CXX_API std::string usage();
// "1.18.0", and the appc spec version the ACIs follow.
D2A_CXX_API std::string version();
D2A_CXX_API std::string appc_version();

}  // namespace docker2aci

#endif /* DOCKER2ACI_DOCKER2ACI_HPP */
