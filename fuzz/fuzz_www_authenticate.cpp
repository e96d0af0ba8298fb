// WWW-Authenticate challenges from registries.
#include "registry/auth.hpp"
#include "util/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    (void)d2a::parse_www_authenticate(text);
    try {
        (void)d2a::base64_decode(text);
    } catch (const d2a::Error&) {
    }
    return 0;
}
