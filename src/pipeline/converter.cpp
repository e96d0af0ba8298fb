#include "pipeline/converter.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "aci/manifest.hpp"
#include "aci/naming.hpp"
#include "aci/tar_writer.hpp"
#include "util/error.hpp"
#include "util/file.hpp"
#include "util/prefetch.hpp"

namespace d2a {

namespace {

using Clock = std::chrono::steady_clock;

std::chrono::milliseconds since(Clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

// Counts what reaches the file, for the report.
class CountingWriter final : public Writer {
  public:
    explicit CountingWriter(Writer& inner) : inner_(inner) {}
    void write(const void* buf, size_t n) override {
        inner_.write(buf, n);
        bytes_ += n;
    }
    void finish() override { inner_.finish(); }
    [[nodiscard]] uint64_t bytes() const { return bytes_; }

  private:
    Writer& inner_;
    uint64_t bytes_ = 0;
};

void require_directory(const std::filesystem::path& dir) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) {
        throw Error("output directory " + dir.string() + ": " + std::strerror(errno));
    }
    if (!S_ISDIR(st.st_mode))
        throw Error("output directory " + dir.string() + " is not a directory");
}

// Writes one ACI into `file` (not yet committed): manifest, rootfs, then the entries.
void write_aci(Writer& file, const std::string& manifest_text, const std::optional<Entry>& root,
               Flattener& flattener, const ConvertOptions& options, ConvertResult& result) {
    CountingWriter counted_file(file);
    auto compressor = make_compressor(options.compression, options.threads, counted_file);
    std::optional<HashingWriter> hashed;
    if (options.image_id) hashed.emplace(*compressor, HashAlgorithm::sha512);
    CountingWriter counted_tar(hashed ? static_cast<Writer&>(*hashed) : *compressor);
    {
        AciTarWriter tar(counted_tar);
        tar.write_manifest(manifest_text);
        tar.write_rootfs_dir(root ? &*root : nullptr);
        flattener.emit(tar);
        tar.finish();
    }
    counted_tar.finish();
    if (hashed) result.image_id = "sha512-" + hashed->hex_digest();
    result.tar_bytes = counted_tar.bytes();
    result.file_bytes = counted_file.bytes();
    result.stats = flattener.stats();
}

// A compressed layer's tar as the scan read it: inflated and verified once, kept in an
// unnamed scratch file (TMPDIR) for the reads that follow, which then neither inflate nor
// hash it again. Only a stream read to its end, where its digests were checked, is kept.
struct LayerSpill {
    std::shared_ptr<FileDescriptor> file;  // set once the copy is complete
    uint64_t size = 0;
};

// Passes a layer stream on, copying it into its spill. The copy is only a shortcut: if it
// cannot be written (TMPDIR full, say), it is dropped and later reads inflate again.
class SpillingReader final : public Reader {
  public:
    SpillingReader(std::unique_ptr<Reader> inner, LayerSpill& spill)
        : inner_(std::move(inner)), spill_(spill) {
        try {
            file_ = std::make_shared<FileDescriptor>(make_scratch_file());
        } catch (const Error&) {  // no scratch file: the layer is read as if never spilled
        }
    }
    size_t read(void* buf, size_t n) override {
        const size_t got = inner_->read(buf, n);
        if (!file_) return got;
        if (got == 0) {
            spill_ = {std::move(file_), written_};
            return 0;
        }
        try {
            write_fully(file_->get(), buf, got, "scratch copy of a layer");
            written_ += got;
        } catch (const Error&) {  // dropped: see above
            file_.reset();
        }
        return got;
    }

  private:
    std::unique_ptr<Reader> inner_;
    LayerSpill& spill_;
    std::shared_ptr<FileDescriptor> file_;
    uint64_t written_ = 0;
};

// Every pass reads verified streams: the source's, or the spill of a compressed layer
// (after a scan read it whole). The emitting pass reads each layer ahead on a thread of
// its own: decompression and the digest checks then overlap with writing and compressing
// the ACI. `spills` (one per layer) must outlive the opener. When `emit_reads_last`, the
// emitting pass takes a layer's spill with it: the scratch file goes as soon as that
// pass has read it.
LayerOpener opener_for(const Image& image, const Limits& limits, std::vector<LayerSpill>& spills,
                       bool emit_reads_last) {
    return [&image, &limits, &spills, emit_reads_last](size_t i,
                                                       LayerPass pass) -> std::unique_ptr<Reader> {
        LayerSpill& spill = spills[i];
        if (spill.file) {
            auto file =
                pass == LayerPass::emit && emit_reads_last ? std::move(spill.file) : spill.file;
            auto kept = std::make_unique<RangeReader>(std::move(file), 0, spill.size,
                                                      image.layers[i].description);
            if (pass == LayerPass::scan) return kept;
            return std::make_unique<PrefetchReader>(std::move(kept));
        }
        Compression compression = Compression::none;
        auto stream = open_layer_tar(image.layers[i], limits, &compression);
        if (pass == LayerPass::scan) {
            if (compression == Compression::none) return stream;
            return std::make_unique<SpillingReader>(std::move(stream), spill);
        }
        return std::make_unique<PrefetchReader>(std::move(stream));
    };
}

std::unique_ptr<AtomicFile> new_output_file(const ConvertOptions& options,
                                            const std::filesystem::path& path) {
    return std::make_unique<AtomicFile>(open_output_directory(options, path), path);
}

}  // namespace

std::shared_ptr<FileDescriptor> open_output_directory(const ConvertOptions& options,
                                                      const std::filesystem::path& path) {
    std::filesystem::path sub = path.parent_path();
    if (options.output_dir != ".") sub = sub.lexically_relative(options.output_dir);
    if (sub == ".") sub.clear();
    return open_directory_below(options.output_dir, sub);
}

std::filesystem::path aci_output_path(const ConvertOptions& options, const std::string& file_name) {
    return options.output_dir == "." ? std::filesystem::path(file_name)
                                     : options.output_dir / file_name;
}

std::vector<std::filesystem::path> aci_output_paths(const Image& image,
                                                    const ConvertOptions& options, bool layered) {
    AciNaming naming = aci_naming(image, options.name_prefix());
    const size_t n = image.layers.size();
    if (!layered || n <= 1) return {aci_output_path(options, naming.file_name)};
    std::vector<std::filesystem::path> paths;
    for (size_t i = 0; i + 1 < n; ++i) {
        std::string stem = sanitize_ac_identifier(naming.file_stem + "-layer" + std::to_string(i));
        paths.push_back(aci_output_path(
            options, aci_file_name(stem, naming.version, naming.os, naming.arch, naming.nested)));
    }
    paths.push_back(aci_output_path(options, naming.file_name));
    return paths;
}

ConvertResult convert_squashed(const Image& image, const ConvertOptions& options,
                               const Limits& limits) {
    require_directory(options.output_dir);
    AciNaming naming = aci_naming(image, options.name_prefix());
    ConvertResult result;
    result.path = aci_output_path(options, naming.file_name);

    FlattenOptions flatten_options;
    flatten_options.capture_paths = {"etc/passwd"};
    flatten_options.scan_threads = options.threads;
    flatten_options.stop_reading = image.stop_reading;
    std::vector<LayerSpill> spills(image.layers.size());
    Flattener flattener(image.layers.size(), opener_for(image, limits, spills, true),
                        flatten_options, limits);
    auto start = Clock::now();
    flattener.scan();
    result.scan_time = since(start);

    result.manifest =
        build_manifest({&image, flattener.captured("etc/passwd"), options.name_prefix()});
    result.file = new_output_file(options, result.path);
    start = Clock::now();
    write_aci(*result.file, result.manifest.dump(), flattener.root_entry(), flattener, options,
              result);
    result.write_time = since(start);
    start = Clock::now();
    result.file->sync();
    result.sync_time = since(start);
    return result;
}

namespace {

// How layer i of n is flattened alone for --nosquash: its directories get the final tree's
// metadata when it only implies them, a hard-link group's data goes where the final tree
// has it, and a link to a file of a lower layer is named as such.
FlattenOptions one_layer_options(size_t i, size_t n, const Flattener& final_tree,
                                 const Flattener& so_far) {
    FlattenOptions o;
    o.add_stdio_links = i + 1 == n;
    o.implicit_dir_metadata = [&final_tree](const std::string& path) {
        return final_tree.directory_metadata(path);
    };
    o.prefer_as_data_path = [&final_tree, i](const std::string& path, uint32_t, uint64_t ordinal) {
        return final_tree.file_origin(path) == EntryOrigin{static_cast<uint32_t>(i), ordinal};
    };
    o.file_below = [&so_far, i](const std::string& path) {
        auto origin = so_far.file_origin(path);
        return origin && origin->layer < i;
    };
    o.layer_name = [i, n](size_t) {
        return "layer " + std::to_string(i + 1) + "/" + std::to_string(n);
    };
    return o;
}

}  // namespace

std::vector<ConvertResult> convert_layered(const Image& image, const ConvertOptions& options,
                                           const Limits& limits) {
    require_directory(options.output_dir);
    const size_t n = image.layers.size();
    if (n == 0) throw Error("the image has no layers");
    AciNaming naming = aci_naming(image, options.name_prefix());
    std::vector<LayerSpill> spills(n);
    LayerOpener opener = opener_for(image, limits, spills, false);

    // The final merged tree decides which path of a hard-link group carries the data and
    // what metadata a directory gets when a layer only implies it.
    FlattenOptions final_options;
    final_options.capture_paths = {"etc/passwd"};
    final_options.scan_threads = options.threads;
    final_options.stop_reading = image.stop_reading;
    Flattener final_tree(n, opener, final_options, limits);
    final_tree.scan();
    const nlohmann::json top_manifest =
        build_manifest({&image, final_tree.captured("etc/passwd"), options.name_prefix()});

    // Scanned layer by layer for each layer's pathWhitelist: the merged tree up to it.
    FlattenOptions so_far_options;
    so_far_options.add_stdio_links = false;
    Flattener so_far(n, opener, so_far_options, limits);

    const std::vector<std::filesystem::path> paths = aci_output_paths(image, options, true);
    std::vector<ConvertResult> results;
    nlohmann::json below;  // the dependency entry naming the layer below
    for (size_t i = 0; i < n; ++i) {
        const bool top = i + 1 == n;
        so_far.scan_layer(i);
        std::vector<std::string> whitelist;
        for (const auto& p : so_far.paths()) whitelist.push_back("/" + p);
        if (top) {
            // The top image also carries the stdio links the squashed ACI gets.
            for (const char* p : {"/dev", "/dev/fd", "/dev/stderr", "/dev/stdin", "/dev/stdout"}) {
                whitelist.emplace_back(p);
            }
            std::sort(whitelist.begin(), whitelist.end());
            whitelist.erase(std::unique(whitelist.begin(), whitelist.end()), whitelist.end());
        }

        std::string suffix = "-layer" + std::to_string(i);
        nlohmann::json manifest = top_manifest;
        if (!top) {
            manifest.erase("app");
            manifest.erase("annotations");
            manifest["name"] = naming.name + suffix;
        }
        if (!below.is_null()) manifest["dependencies"] = nlohmann::json::array({below});
        manifest["pathWhitelist"] = whitelist;
        below = {{"imageName", manifest["name"]}, {"labels", manifest["labels"]}};

        Flattener layer(
            1, [&opener, i](size_t, LayerPass pass) { return opener(i, pass); },
            one_layer_options(i, n, final_tree, so_far), limits);
        ConvertResult result;
        result.manifest = manifest;
        result.path = paths[i];
        result.file = new_output_file(options, result.path);
        write_aci(*result.file, manifest.dump(), layer.root_entry(), layer, options, result);
        result.file->sync();
        results.push_back(std::move(result));
    }
    return results;
}

}  // namespace d2a
