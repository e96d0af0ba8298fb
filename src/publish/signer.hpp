// Detached OpenPGP signatures of ACIs (GPGME), the form rkt verifies: NAME.aci.asc.
#pragma once

#include <optional>
#include <string>

#include "util/stream.hpp"

namespace d2a {

struct SigningOptions {
    std::string key_id;                   // fingerprint, key id or user id of a secret key
    std::optional<std::string> gpg_home;  // GNUPGHOME to use instead of the default
    // A file whose first line is the key's passphrase, given to gpg through loopback
    // pinentry; without it a key behind a passphrase must be unlocked in gpg-agent.
    std::optional<std::string> passphrase_file;
};

// What publishing needs of a signer. Publishing takes this interface, so that a signer
// failing part-way through an image's files can be tested.
class DetachedSigner {
  public:
    virtual ~DetachedSigner() = default;
    // An ASCII-armored detached signature of the stream's bytes.
    [[nodiscard]] virtual std::string sign(Reader& data) const = 0;
    // Whether `signature` is a good signature of the stream's bytes by this signer's key.
    [[nodiscard]] virtual bool verifies(Reader& data, const std::string& signature) const = 0;
};

class Signer final : public DetachedSigner {
  public:
    // Finds the secret key and signs a test message with it, so that a wrong key, a
    // missing home or a key that cannot sign fails before any image is looked at (also
    // when every image turns out unchanged).
    explicit Signer(SigningOptions options);
    Signer(const Signer&) = delete;
    Signer& operator=(const Signer&) = delete;
    // Stops the gpg-agent that signing started, if none ran before: cron runs must not
    // pile up agents. One that was already running (a user's own) is left alone.
    ~Signer() override;
    // The same, now: for a process about to exit without running destructors.
    void stop_started_agent() const;

    [[nodiscard]] std::string sign(Reader& data) const override;
    [[nodiscard]] bool verifies(Reader& data, const std::string& signature) const override;
    // Why rkt could not verify this key's signatures, if it could not (an EdDSA key).
    [[nodiscard]] std::optional<std::string> rkt_cannot_verify() const;
    // The signing key's public key, ASCII-armored (for `rkt trust`).
    [[nodiscard]] std::string export_public_key() const;

  private:
    SigningOptions options_;
    std::string passphrase_;
    std::string fingerprint_;
    std::string algorithm_;  // of the key's signatures, as GPGME names it ("RSA", "EdDSA")
    std::string sign(Reader& data, std::string* algorithm) const;
    bool stop_agent_ = false;
};

}  // namespace d2a
