#include "aci/signer.hpp"

#include <gpgme.h>

#include <memory>
#include <vector>

#include "util/error.hpp"
#include "util/file.hpp"

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

void check(gpgme_error_t err, const std::string& what) {
    if (err != GPG_ERR_NO_ERROR) throw Error("signing: " + what + ": " + gpgme_strerror(err));
}

}  // namespace

void sign_aci(const std::filesystem::path& aci, const SigningOptions& options) {
    gpgme_check_version(nullptr);
    gpgme_ctx_t raw_ctx = nullptr;
    check(gpgme_new(&raw_ctx), "gpgme");
    std::unique_ptr<gpgme_context, ContextDeleter> ctx(raw_ctx);
    check(gpgme_set_protocol(ctx.get(), GPGME_PROTOCOL_OpenPGP), "OpenPGP");
    if (options.gpg_home) {
        check(gpgme_ctx_set_engine_info(ctx.get(), GPGME_PROTOCOL_OpenPGP, nullptr,
                                        options.gpg_home->c_str()),
              "--gpg-home " + *options.gpg_home);
    }
    gpgme_set_armor(ctx.get(), 1);
    gpgme_key_t raw_key = nullptr;
    check(gpgme_get_key(ctx.get(), options.key_id.c_str(), &raw_key, 1),
          "secret key " + options.key_id);
    std::unique_ptr<_gpgme_key, KeyDeleter> key(raw_key);
    check(gpgme_signers_add(ctx.get(), key.get()), "key " + options.key_id);

    FileDescriptor fd = open_for_reading(aci.string());
    gpgme_data_t raw_in = nullptr;
    gpgme_data_t raw_out = nullptr;
    check(gpgme_data_new_from_fd(&raw_in, fd.get()), "reading " + aci.string());
    std::unique_ptr<gpgme_data, DataDeleter> in(raw_in);
    check(gpgme_data_new(&raw_out), "buffer");
    std::unique_ptr<gpgme_data, DataDeleter> out(raw_out);
    check(gpgme_op_sign(ctx.get(), in.get(), out.get(), GPGME_SIG_MODE_DETACH), aci.string());

    size_t length = 0;
    char* bytes = gpgme_data_release_and_get_mem(out.release(), &length);
    std::string signature(bytes ? bytes : "", length);
    gpgme_free(bytes);
    if (signature.empty()) throw Error("signing: " + aci.string() + ": empty signature");
    AtomicFile asc(aci.string() + ".asc");
    asc.write(signature.data(), signature.size());
    asc.commit();
}

}  // namespace d2a
