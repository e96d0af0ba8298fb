// Detached OpenPGP signatures of ACIs (GPGME), the form rkt verifies: NAME.aci.asc.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace d2a {

struct SigningOptions {
    std::string key_id;                  // fingerprint, key id or user id of a secret key
    std::optional<std::string> gpg_home;  // GNUPGHOME to use instead of the default
};

// Writes `aci` + ".asc" (ASCII armored, detached), replacing it atomically.
void sign_aci(const std::filesystem::path& aci, const SigningOptions& options);

}  // namespace d2a
