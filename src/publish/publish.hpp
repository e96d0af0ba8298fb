// Putting ACIs in place. A new ACI and its signature are both complete on disk, and every
// name they will take is made and checked, before either is renamed into place, so a
// failure (a key that cannot sign, a name too long, a full disk, a kill) leaves the
// previous ACI and signature exactly as they were.
//
// An output directory may be shared by runs and shards converting other images: an ACI in
// place that was made from another image reference (see source_of) is never replaced. The
// check and the renames happen under an exclusive flock(2) of the ACI's directory, so two
// processes publishing into one directory cannot both find the name free and both take it.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "aci/result.hpp"
#include "aci/inspect.hpp"
#include "publish/signer.hpp"

namespace d2a {

// Signs each result's bytes as written (when `signer` is given), then renames every ACI
// and signature of the image into place. Without a signer, a signature left by an earlier
// conversion is removed after its ACI is replaced: it no longer matches the new bytes.
// Throws, with nothing replaced, when the ACI in place was made from another image.
void publish(std::vector<ConvertResult>& results, const DetachedSigner* signer);

// Throws when `aci` (in the open directory `dir`) holds an ACI made from an image reference
// other than `source` (both are named, with the file); nothing, when it is missing,
// unreadable or the same image's.
void check_same_source(const FileDescriptor& dir, const std::filesystem::path& aci,
                       const std::string& source);

// An unchanged ACI at `path` in the open directory `dir`: its signature must be `signer`'s
// over the bytes checked in `aci`; a missing or other signature is replaced (atomically).
void ensure_signature(const ExistingAci& aci, const std::shared_ptr<FileDescriptor>& dir,
                      const std::filesystem::path& path, const DetachedSigner& signer);

// "NAME.aci.asc"
std::filesystem::path signature_path(const std::filesystem::path& aci);

}  // namespace d2a
