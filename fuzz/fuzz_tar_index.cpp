// The outer archive indexer (docker save / OCI archives): headers, long names, PAX,
// base-256 numbers, links inside the archive.
#include <sys/mman.h>
#include <unistd.h>

#include "source/bundle.hpp"
#include "util/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    int fd = memfd_create("fuzz", MFD_CLOEXEC);
    if (fd < 0) return 0;
    if (size && write(fd, data, size) != static_cast<ssize_t>(size)) {
        close(fd);
        return 0;
    }
    auto file = std::make_shared<d2a::FileDescriptor>(fd);
    try {
        d2a::TarBundle bundle(file, "fuzz.tar");
        for (const char* name : {"manifest.json", "repositories", "index.json", "a/layer.tar"}) {
            if (bundle.exists(name)) (void)bundle.read_file(name, 1 << 20);
        }
    } catch (const d2a::Error&) {
    }
    return 0;
}
