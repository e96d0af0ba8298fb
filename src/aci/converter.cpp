#include "aci/converter.hpp"

#include <sys/stat.h>

#include "aci/manifest.hpp"
#include "aci/tar_writer.hpp"
#include "util/error.hpp"
#include "util/file.hpp"

namespace d2a {

namespace {

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

}  // namespace

ConvertResult convert_squashed(const Image& image, const ConvertOptions& options) {
    struct stat st {};
    if (::stat(options.output_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        throw Error("output directory " + options.output_dir.string() + " does not exist");
    }
    AciNaming naming = aci_naming(image);
    ConvertResult result;
    result.path = options.output_dir == "." ? std::filesystem::path(naming.file_name)
                                            : options.output_dir / naming.file_name;

    FlattenOptions flatten_options;
    flatten_options.limits = options.limits;
    flatten_options.capture_paths = {"etc/passwd"};
    Flattener flattener(
        image.layers.size(),
        [&](size_t i) { return open_layer_tar(image.layers[i], options.limits); }, flatten_options);
    flattener.scan();

    result.manifest = build_manifest({&image, flattener.captured("etc/passwd")});
    const std::string manifest_text = result.manifest.dump();

    AtomicFile file(result.path);
    CountingWriter counted(file);
    auto compressor = make_compressor(options.compression, counted);
    HashingWriter hashed(*compressor, HashAlgorithm::sha512);
    {
        AciTarWriter tar(hashed);
        tar.write_manifest(manifest_text);
        auto root = flattener.root_entry();
        tar.write_rootfs_dir(root ? &*root : nullptr);
        flattener.emit(tar);
        tar.finish();
    }
    hashed.finish();
    file.commit();
    result.image_id = "sha512-" + hashed.hex_digest();
    result.tar_bytes = hashed.bytes();
    result.file_bytes = counted.bytes();
    result.stats = flattener.stats();
    return result;
}

}  // namespace d2a
