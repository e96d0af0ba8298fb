// Image references ([REGISTRY/]NAME[:TAG][@DIGEST]) and the names derived from them.
#include "aci/naming.hpp"
#include "image/reference.hpp"
#include "util/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    try {
        auto r = d2a::Reference::parse(text);
        (void)r.canonical();
        (void)r.familiar().name();
        (void)d2a::sanitize_ac_identifier(r.registry() + "/" + r.repository());
    } catch (const d2a::Error&) {
    }
    (void)d2a::sanitize_ac_name(text);
    return 0;
}
