// The IMAGE argument on the local machine: stdin, an archive file (maybe compressed, maybe
// a pipe), or an OCI layout directory. A compressed or non-seekable archive is unpacked
// once into an unnamed scratch file so its members can be read by offset.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "source/docker_archive.hpp"
#include "source/local_input.hpp"
#include "source/oci_layout.hpp"
#include "source/options.hpp"
#include "codec/decompress.hpp"
#include "util/error.hpp"

namespace d2a {

namespace {

std::shared_ptr<FileDescriptor> spool(std::unique_ptr<Reader> input, const std::string& what,
                                      const Limits& limits) {
    auto scratch = std::make_shared<FileDescriptor>(make_scratch_file());
    auto plain = open_decompressed(std::move(input), what, limits.max_unpacked_bytes,
                                   limits.max_compression_ratio);
    std::vector<char> buf(1 << 20);
    for (;;) {
        size_t n = plain->read(buf.data(), buf.size());
        if (n == 0) break;
        write_fully(scratch->get(), buf.data(), n, "scratch file");
    }
    return scratch;
}

// "hello.tar.gz" -> "hello", as the original tool named untagged images.
std::string stem_of(const std::string& arg) {
    std::string base = std::filesystem::path(arg).filename().string();
    if (base.empty()) base = std::filesystem::path(arg).parent_path().filename().string();
    std::string stem = base.substr(0, base.find('.'));
    std::string out;
    for (char c : stem) {
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            out += c;
        } else if (c >= 'A' && c <= 'Z') {
            out += static_cast<char>(c - 'A' + 'a');
        } else if (!out.empty() && out.back() != '-') {
            out += '-';
        }
    }
    while (!out.empty() && out.back() == '-') out.pop_back();
    return out.empty() ? "image" : out;
}

Image load_bundle(const std::shared_ptr<const Bundle>& bundle, const SourceOptions& options,
                  const Limits& limits, const std::string& fallback) {
    if (bundle->exists("manifest.json") || bundle->exists("repositories")) {
        return load_docker_archive(bundle, options, limits, fallback);
    }
    if (bundle->exists("index.json")) return load_oci_layout(bundle, options, limits, fallback);
    throw Error(bundle->describe() +
                ": not a docker save archive or OCI layout (no manifest.json, repositories or "
                "index.json)");
}

}  // namespace

Image open_local_image(const std::string& arg, const SourceOptions& options, const Limits& limits) {
    if (arg == "-") {
        auto fd = spool(std::make_unique<FdReader>(STDIN_FILENO, "standard input"),
                        "standard input", limits);
        auto bundle = std::make_shared<TarBundle>(fd, "on standard input");
        return load_bundle(bundle, options, limits, "image");
    }
    struct stat st {};
    if (::stat(arg.c_str(), &st) != 0) throw_errno(arg);
    if (S_ISDIR(st.st_mode)) {
        return load_bundle(std::make_shared<DirectoryBundle>(arg), options, limits, stem_of(arg));
    }
    auto fd = std::make_shared<FileDescriptor>(open_for_reading(arg));
    std::shared_ptr<FileDescriptor> seekable = fd;
    if (!S_ISREG(st.st_mode)) {
        seekable = spool(std::make_unique<FdReader>(fd->get(), arg), arg, limits);
    } else {
        char head[6] = {};
        ssize_t n = ::pread(fd->get(), head, sizeof head, 0);
        if (n > 0 && detect_compression(std::string_view(head, static_cast<size_t>(n))) !=
                         Compression::none) {
            seekable = spool(std::make_unique<RangeReader>(fd, 0, file_size(fd->get()), arg), arg,
                             limits);
        }
    }
    auto bundle = std::make_shared<TarBundle>(seekable, arg);
    return load_bundle(bundle, options, limits, stem_of(arg));
}

}  // namespace d2a
