#include "aci/publish.hpp"

#include <memory>

#include "util/error.hpp"

namespace d2a {

std::filesystem::path signature_path(const std::filesystem::path& aci) {
    return aci.string() + ".asc";
}

void publish(std::vector<ConvertResult>& results, const Signer* signer) {
    std::vector<std::unique_ptr<AtomicFile>> signatures;
    if (signer) {
        for (const auto& r : results) {
            auto bytes = r.file->read_back();
            std::string signature = signer->sign(*bytes);
            auto asc = std::make_unique<AtomicFile>(signature_path(r.path));
            asc->write(signature.data(), signature.size());
            asc->sync();
            signatures.push_back(std::move(asc));
        }
    } else {
        for (const auto& r : results) {
            std::error_code ec;
            std::filesystem::remove(signature_path(r.path), ec);
            if (ec) throw Error("removing " + signature_path(r.path).string() + ": " + ec.message());
        }
    }
    // Everything is on disk: only renames are left.
    for (size_t i = 0; i < results.size(); ++i) {
        results[i].file->commit();
        if (signer) signatures[i]->commit();
    }
}

void ensure_signature(const ExistingAci& aci, const std::filesystem::path& path,
                      const Signer& signer) {
    const std::filesystem::path asc_path = signature_path(path);
    if (auto existing = read_file_if_present(asc_path.string(), 1 << 20)) {
        auto bytes = aci.reader(path.string());
        if (signer.verifies(*bytes, *existing)) return;
    }
    auto bytes = aci.reader(path.string());
    std::string signature = signer.sign(*bytes);
    AtomicFile asc(asc_path);
    asc.write(signature.data(), signature.size());
    asc.commit();
}

}  // namespace d2a
