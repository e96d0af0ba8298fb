// Putting ACIs in place. A new ACI and its signature are both complete on disk before
// either is renamed into place, so a failure (a key that cannot sign, a full disk, a kill)
// leaves the previous ACI and signature exactly as they were.
#pragma once

#include <filesystem>
#include <vector>

#include "aci/converter.hpp"
#include "aci/inspect.hpp"
#include "aci/signer.hpp"

namespace d2a {

// Signs each result's bytes as written (when `signer` is given), then renames every ACI
// and signature of the image into place. Without a signer, a signature left by an earlier
// conversion is removed first: it no longer matches the new bytes.
void publish(std::vector<ConvertResult>& results, const Signer* signer);

// An unchanged ACI: its signature must be `signer`'s over the bytes checked in `aci`;
// a missing or other signature is replaced (atomically).
void ensure_signature(const ExistingAci& aci, const std::filesystem::path& path,
                      const Signer& signer);

// "NAME.aci.asc"
std::filesystem::path signature_path(const std::filesystem::path& aci);

}  // namespace d2a
