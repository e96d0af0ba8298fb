#include "aci/signer.hpp"

#include <gpgme.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "util/error.hpp"

namespace d2a {

namespace {

struct ContextDeleter {
    void operator()(gpgme_ctx_t c) const { gpgme_release(c); }
};
struct DataDeleter {
    void operator()(gpgme_data_t d) const { gpgme_data_release(d); }
};
struct KeyDeleter {
    void operator()(gpgme_key_t k) const { gpgme_key_unref(k); }
};
using Context = std::unique_ptr<gpgme_context, ContextDeleter>;
using Data = std::unique_ptr<gpgme_data, DataDeleter>;
using Key = std::unique_ptr<_gpgme_key, KeyDeleter>;

void check(gpgme_error_t err, const std::string& what) {
    if (err != GPG_ERR_NO_ERROR) throw Error("signing: " + what + ": " + gpgme_strerror(err));
}

Context new_context(const SigningOptions& options) {
    gpgme_check_version(nullptr);
    gpgme_ctx_t raw = nullptr;
    check(gpgme_new(&raw), "gpgme");
    Context ctx(raw);
    check(gpgme_set_protocol(ctx.get(), GPGME_PROTOCOL_OpenPGP), "OpenPGP");
    if (options.gpg_home) {
        check(gpgme_ctx_set_engine_info(ctx.get(), GPGME_PROTOCOL_OpenPGP, nullptr,
                                        options.gpg_home->c_str()),
              "--gpg-home " + *options.gpg_home);
    }
    gpgme_set_armor(ctx.get(), 1);
    return ctx;
}

Key secret_key(gpgme_ctx_t ctx, const std::string& key_id) {
    gpgme_key_t raw = nullptr;
    check(gpgme_get_key(ctx, key_id.c_str(), &raw, 1), "secret key " + key_id);
    return Key(raw);
}

// GPGME reads the data through this: a Reader, so that what is signed or verified is the
// stream the caller holds (an open file), not whatever a name points to.
ssize_t read_from_reader(void* handle, void* buffer, size_t size) {
    try {
        return static_cast<ssize_t>(static_cast<Reader*>(handle)->read(buffer, size));
    } catch (const std::exception&) {  // GPGME is C: report an I/O error through errno
        errno = EIO;
        return -1;
    }
}

Data data_from(Reader& reader, gpgme_data_cbs& callbacks) {
    std::memset(&callbacks, 0, sizeof callbacks);
    callbacks.read = &read_from_reader;
    gpgme_data_t raw = nullptr;
    check(gpgme_data_new_from_cbs(&raw, &callbacks, &reader), "data");
    return Data(raw);
}

Data memory_buffer() {
    gpgme_data_t raw = nullptr;
    check(gpgme_data_new(&raw), "buffer");
    return Data(raw);
}

// What GPGME wrote into a memory buffer, as a string.
std::string take_bytes(Data buffer) {
    size_t length = 0;
    char* bytes = gpgme_data_release_and_get_mem(buffer.release(), &length);
    std::string out(bytes ? bytes : "", length);
    gpgme_free(bytes);
    return out;
}

}  // namespace

Signer::Signer(SigningOptions options) : options_(std::move(options)) {
    Context ctx = new_context(options_);
    Key key = secret_key(ctx.get(), options_.key_id);
    if (!key->can_sign || !key->subkeys || !key->subkeys->fpr) {
        throw Error("signing: key " + options_.key_id + " cannot sign");
    }
    fingerprint_ = key->subkeys->fpr;
    MemoryReader probe("docker2aci signing check\n");
    (void)sign(probe);
}

std::string Signer::sign(Reader& data) const {
    Context ctx = new_context(options_);
    Key key = secret_key(ctx.get(), options_.key_id);
    check(gpgme_signers_add(ctx.get(), key.get()), "key " + options_.key_id);
    gpgme_data_cbs callbacks;
    Data in = data_from(data, callbacks);
    Data out = memory_buffer();
    check(gpgme_op_sign(ctx.get(), in.get(), out.get(), GPGME_SIG_MODE_DETACH),
          "key " + options_.key_id);
    std::string signature = take_bytes(std::move(out));
    if (signature.empty()) throw Error("signing: key " + options_.key_id + ": empty signature");
    return signature;
}

std::string Signer::export_public_key() const {
    Context ctx = new_context(options_);
    Data out = memory_buffer();
    check(gpgme_op_export(ctx.get(), fingerprint_.c_str(), 0, out.get()),
          "exporting key " + options_.key_id);
    std::string key = take_bytes(std::move(out));
    if (key.empty()) throw Error("signing: key " + options_.key_id + ": nothing to export");
    return key;
}

bool Signer::verifies(Reader& data, const std::string& signature) const {
    Context ctx = new_context(options_);
    gpgme_data_t raw_sig = nullptr;
    check(gpgme_data_new_from_mem(&raw_sig, signature.data(), signature.size(), 0), "signature");
    Data sig(raw_sig);
    gpgme_data_cbs callbacks;
    Data text = data_from(data, callbacks);
    if (gpgme_op_verify(ctx.get(), sig.get(), text.get(), nullptr) != GPG_ERR_NO_ERROR) return false;
    gpgme_verify_result_t result = gpgme_op_verify_result(ctx.get());
    if (!result || !result->signatures) return false;
    Key key = secret_key(ctx.get(), options_.key_id);
    for (gpgme_signature_t s = result->signatures; s; s = s->next) {
        if (gpg_err_code(s->status) != GPG_ERR_NO_ERROR || !s->fpr) return false;
        bool ours = false;
        for (gpgme_subkey_t k = key->subkeys; k; k = k->next) {
            if (k->fpr && std::strcmp(k->fpr, s->fpr) == 0) ours = true;
        }
        if (!ours) return false;
    }
    return true;
}

}  // namespace d2a
