// Image config JSON -> appc ImageManifest.
#include "aci/manifest.hpp"
#include "util/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    try {
        d2a::Image image;
        image.source_kind = d2a::SourceKind::docker_archive;
        image.reference = d2a::Reference::parse("fuzz/image:1");
        image.image_id = "sha256:" + std::string(64, 'a');
        image.config = d2a::ImageConfig::parse(text, "config");
        auto passwd = std::optional<std::string>("root:x:0:0::/:/bin/sh\napp:x:1:2::/:/bin/sh\n");
        (void)d2a::build_manifest({&image, passwd, ""}).dump();
    } catch (const d2a::Error&) {
    }
    return 0;
}
