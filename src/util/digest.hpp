// Content digests ("sha256:<hex>") and streaming hashers (OpenSSL EVP).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "util/stream.hpp"

namespace d2a {

enum class HashAlgorithm { sha256, sha512 };

class Hasher {
  public:
    explicit Hasher(HashAlgorithm algorithm);
    Hasher(Hasher&&) noexcept;
    Hasher& operator=(Hasher&&) noexcept;
    ~Hasher();
    void update(const void* data, size_t n);
    // Lower-case hex of the digest; the hasher is spent afterwards.
    std::string hex_digest();

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// A validated content digest. Parsing rejects anything that is not algorithm:hex of the
// right length, so a digest can safely become a path component.
struct Digest {
    HashAlgorithm algorithm = HashAlgorithm::sha256;
    std::string hex;

    static Digest parse(std::string_view text);
    static std::optional<Digest> try_parse(std::string_view text);
    static Digest of(std::string_view data, HashAlgorithm algorithm = HashAlgorithm::sha256);
    [[nodiscard]] std::string algorithm_name() const;
    [[nodiscard]] std::string str() const { return algorithm_name() + ":" + hex; }
    bool operator==(const Digest&) const = default;
};

// Passes bytes through while hashing them; at end of stream compares with the expected
// digest (and size, when known) and throws if they differ.
class VerifyingReader final : public Reader {
  public:
    VerifyingReader(std::unique_ptr<Reader> inner, Digest expected, std::optional<uint64_t> size,
                    std::string what);
    size_t read(void* buf, size_t n) override;
    [[nodiscard]] bool ends_verified_as(const Digest& digest,
                                        std::optional<uint64_t> size) const override;

  private:
    size_t checked_read(void* buf, size_t n);
    std::unique_ptr<Reader> inner_;
    std::string failure_;
    Digest expected_;
    std::optional<uint64_t> size_;
    std::string what_;
    Hasher hasher_;
    uint64_t count_ = 0;
    bool checked_ = false;
};

}  // namespace d2a
