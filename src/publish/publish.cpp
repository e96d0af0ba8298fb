#include "publish/publish.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <thread>

#include "aci/manifest.hpp"
#include "util/error.hpp"

namespace d2a {

namespace {

// How long a publish waits for another process's publish into the same directory (a
// rename or two) before giving up: a lock held longer is not a publish.
constexpr auto kLockPatience = std::chrono::seconds(60);

// An exclusive flock(2) of an open directory, held while it lives.
class DirectoryLock {
  public:
    DirectoryLock(const FileDescriptor& dir, const std::filesystem::path& shown) : dir_(dir) {
        const auto give_up = std::chrono::steady_clock::now() + kLockPatience;
        while (::flock(dir_.get(), LOCK_EX | LOCK_NB) != 0) {
            if (errno != EWOULDBLOCK && errno != EINTR) throw_errno("locking " + shown.string());
            if (std::chrono::steady_clock::now() > give_up) {
                throw Error(shown.string() + ": locked by another process for " +
                            std::to_string(kLockPatience.count()) + " s; nothing published");
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }
    DirectoryLock(const DirectoryLock&) = delete;
    DirectoryLock& operator=(const DirectoryLock&) = delete;
    ~DirectoryLock() { ::flock(dir_.get(), LOCK_UN); }

  private:
    const FileDescriptor& dir_;
};

std::string shown(const std::string& source) {
    return source.empty() ? "an image without a name" : source;
}

}  // namespace

std::filesystem::path signature_path(const std::filesystem::path& aci) {
    return aci.string() + ".asc";
}

void check_same_source(const FileDescriptor& dir, const std::filesystem::path& aci,
                       const std::string& source) {
    const std::optional<nlohmann::json> manifest =
        read_aci_manifest(open_regular_file_at(dir, aci.filename().string()), aci.string());
    if (!manifest) return;
    const std::string existing = source_of(*manifest);
    if (existing == source) return;
    throw Error(aci.string() + " was made from " + shown(existing) + "; " + shown(source) +
                " maps to the same file and does not replace it (convert one of them into "
                "another directory)");
}

void publish(std::vector<ConvertResult>& results, const DetachedSigner* signer) {
    if (results.empty()) return;
    std::vector<std::unique_ptr<AtomicFile>> signatures;
    if (signer) {
        for (const auto& r : results) {
            auto bytes = r.file->read_back();
            std::string signature = signer->sign(*bytes);
            auto asc = std::make_unique<AtomicFile>(r.file->directory(), signature_path(r.path));
            asc->write(signature.data(), signature.size());
            signatures.push_back(std::move(asc));
        }
    }
    // Every file on disk under a name of its own, every final name checked: only renames
    // are left.
    for (auto& r : results) r.file->prepare();
    for (auto& asc : signatures) asc->prepare();
    // An image's files share the top ACI's directory; only the top one names its source.
    const ConvertResult& top = results.back();
    const FileDescriptor& dir = *top.file->directory();
    DirectoryLock lock(dir, top.path.parent_path());
    check_same_source(dir, top.path, source_of(top.manifest));
    for (size_t i = 0; i < results.size(); ++i) {
        results[i].file->commit();
        if (signer) signatures[i]->commit();
    }
    if (!signer) {
        for (const auto& r : results) {
            const std::filesystem::path asc = signature_path(r.path);
            if (::unlinkat(r.file->directory()->get(), asc.filename().c_str(), 0) != 0 &&
                errno != ENOENT) {
                throw_errno("removing " + asc.string());
            }
        }
    }
}

void ensure_signature(const ExistingAci& aci, const std::shared_ptr<FileDescriptor>& dir,
                      const std::filesystem::path& path, const DetachedSigner& signer) {
    const std::filesystem::path asc_path = signature_path(path);
    FileDescriptor existing_file = open_regular_file_at(*dir, asc_path.filename().string());
    if (existing_file.valid()) {
        const uint64_t size = file_size(existing_file.get());
        RangeReader existing_reader(std::make_shared<FileDescriptor>(std::move(existing_file)), 0,
                                    size, asc_path.string());
        const std::string existing = read_all(existing_reader, 1 << 20, asc_path.string());
        auto bytes = aci.reader(path.string());
        if (signer.verifies(*bytes, existing)) return;
    }
    auto bytes = aci.reader(path.string());
    std::string signature = signer.sign(*bytes);
    AtomicFile asc(dir, asc_path);
    asc.write(signature.data(), signature.size());
    asc.commit();
}

}  // namespace d2a
