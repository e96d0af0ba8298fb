#include "util/digest.hpp"

#include <openssl/evp.h>

#include "util/error.hpp"

namespace d2a {

struct Hasher::Impl {
    EVP_MD_CTX* ctx = nullptr;
    ~Impl() { EVP_MD_CTX_free(ctx); }
};

Hasher::Hasher(HashAlgorithm algorithm) : impl_(std::make_unique<Impl>()) {
    impl_->ctx = EVP_MD_CTX_new();
    const EVP_MD* md = algorithm == HashAlgorithm::sha256 ? EVP_sha256() : EVP_sha512();
    if (!impl_->ctx || EVP_DigestInit_ex(impl_->ctx, md, nullptr) != 1) {
        throw Error("cannot initialise the hash function");
    }
}
Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;
Hasher::~Hasher() = default;

void Hasher::update(const void* data, size_t n) {
    if (n) EVP_DigestUpdate(impl_->ctx, data, n);
}

std::string Hasher::hex_digest() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(impl_->ctx, md, &len);
    static const char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(len * 2);
    for (unsigned i = 0; i < len; ++i) {
        out += digits[md[i] >> 4];
        out += digits[md[i] & 15];
    }
    return out;
}

std::optional<Digest> Digest::try_parse(std::string_view text) {
    auto colon = text.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    std::string_view algo = text.substr(0, colon);
    std::string_view hex = text.substr(colon + 1);
    Digest d;
    size_t want = 0;
    if (algo == "sha256") {
        d.algorithm = HashAlgorithm::sha256;
        want = 64;
    } else if (algo == "sha512") {
        d.algorithm = HashAlgorithm::sha512;
        want = 128;
    } else {
        return std::nullopt;
    }
    if (hex.size() != want) return std::nullopt;
    for (char c : hex) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
    }
    d.hex = std::string(hex);
    return d;
}

Digest Digest::parse(std::string_view text) {
    auto d = try_parse(text);
    if (!d) {
        std::string shown(text.substr(0, 100));
        throw Error("invalid digest \"" + shown + "\" (want sha256:<64 hex digits>)");
    }
    return *d;
}

Digest Digest::of(std::string_view data, HashAlgorithm algorithm) {
    Hasher h(algorithm);
    h.update(data.data(), data.size());
    return Digest{algorithm, h.hex_digest()};
}

std::string Digest::algorithm_name() const {
    return algorithm == HashAlgorithm::sha256 ? "sha256" : "sha512";
}

VerifyingReader::VerifyingReader(std::unique_ptr<Reader> inner, Digest expected,
                                 std::optional<uint64_t> size, std::string what)
    : inner_(std::move(inner)),
      expected_(std::move(expected)),
      size_(size),
      what_(std::move(what)),
      hasher_(expected_.algorithm) {}

size_t VerifyingReader::read(void* buf, size_t n) {
    // A failed check fails every read after it: no caller can take a later 0 for the end.
    if (!failure_.empty()) throw Error(failure_);
    try {
        return checked_read(buf, n);
    } catch (const Error& e) {
        failure_ = e.what();
        throw;
    }
}

bool VerifyingReader::ends_verified_as(const Digest& digest, std::optional<uint64_t> size) const {
    return digest == expected_ && (!size || size == size_);
}

size_t VerifyingReader::checked_read(void* buf, size_t n) {
    size_t got = inner_->read(buf, n);
    if (got > 0) {
        hasher_.update(buf, got);
        count_ += got;
        if (size_ && count_ > *size_) {
            throw Error(what_ + ": more data than the " + std::to_string(*size_) +
                        " bytes its descriptor gives");
        }
        return got;
    }
    if (!checked_) {
        checked_ = true;
        if (size_ && count_ != *size_) {
            throw Error(what_ + ": size mismatch: expected " + std::to_string(*size_) +
                        " bytes, got " + std::to_string(count_));
        }
        std::string actual = expected_.algorithm_name() + ":" + hasher_.hex_digest();
        if (actual != expected_.str()) {
            throw Error(what_ + ": digest mismatch: expected " + expected_.str() + ", got " +
                        actual);
        }
    }
    return 0;
}

}  // namespace d2a
