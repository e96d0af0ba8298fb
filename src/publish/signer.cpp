#include "publish/signer.hpp"

#include <gpgme.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "util/error.hpp"
#include "util/file.hpp"
#include "util/process.hpp"

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

std::string home_name(const SigningOptions& options) {
    if (options.gpg_home) return *options.gpg_home;
    const char* env = std::getenv("GNUPGHOME");
    return env && *env ? env : "~/.gnupg";
}

// gpg asks for a passphrase through pinentry, which fails without a terminal ("Inappropriate
// ioctl for device"); say what is wrong and how to give one.
void check_signing(gpgme_error_t err, const SigningOptions& options) {
    switch (gpg_err_code(err)) {
        case GPG_ERR_NO_ERROR:
            return;
        case GPG_ERR_BAD_PASSPHRASE:
            throw Error("signing: key " + options.key_id + ": wrong passphrase in " +
                        options.passphrase_file.value_or("the passphrase file"));
        case GPG_ERR_ENOTTY:
        case GPG_ERR_NO_PIN_ENTRY:
        case GPG_ERR_NO_PASSPHRASE:
        case GPG_ERR_CANCELED:
        case GPG_ERR_FULLY_CANCELED:
            if (!options.passphrase_file) {
                throw Error("signing: key " + options.key_id +
                            " needs a passphrase and there is no terminal to ask for it: give "
                            "it with --passphrase-file FILE, or unlock the key in gpg-agent "
                            "first (gpg-preset-passphrase)");
            }
            break;
        default:
            break;
    }
    check(err, "key " + options.key_id);
}

// Hands the passphrase to gpg (loopback pinentry); a second ask means it was wrong.
gpgme_error_t give_passphrase(void* passphrase, const char*, const char*, int prev_was_bad,
                              int fd) {
    if (prev_was_bad) return gpg_error(GPG_ERR_BAD_PASSPHRASE);
    std::string line = *static_cast<const std::string*>(passphrase) + "\n";
    if (gpgme_io_writen(fd, line.data(), line.size()) != 0) return gpg_error(GPG_ERR_CANCELED);
    return GPG_ERR_NO_ERROR;
}

Context new_context(const SigningOptions& options, const std::string* passphrase = nullptr) {
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
    if (passphrase) {
        check(gpgme_set_pinentry_mode(ctx.get(), GPGME_PINENTRY_MODE_LOOPBACK), "pinentry");
        gpgme_set_passphrase_cb(ctx.get(), &give_passphrase, const_cast<std::string*>(passphrase));
    }
    return ctx;
}

Key secret_key(gpgme_ctx_t ctx, const SigningOptions& options) {
    gpgme_key_t raw = nullptr;
    gpgme_error_t err = gpgme_get_key(ctx, options.key_id.c_str(), &raw, 1);
    switch (gpg_err_code(err)) {
        case GPG_ERR_EOF:  // GPGME's "no key matches"
        case GPG_ERR_INV_VALUE:
            throw Error("signing: no secret key \"" + options.key_id + "\" in " +
                        home_name(options));
        case GPG_ERR_AMBIGUOUS_NAME:
            throw Error("signing: several secret keys match \"" + options.key_id + "\" in " +
                        home_name(options) + ": give the fingerprint");
        default:
            check(err, "secret key " + options.key_id);
    }
    return Key(raw);
}

// The gpg-agent socket for this home, as gpgconf computes it (it may live under
// /run/user), or nothing when gpgconf cannot say.
std::string agent_socket(const SigningOptions& options) {
    std::vector<std::string> argv = {"gpgconf"};
    if (options.gpg_home) argv.insert(argv.end(), {"--homedir", *options.gpg_home});
    argv.insert(argv.end(), {"--list-dirs", "agent-socket"});
    ProcessResult r = run_process(argv);
    if (!r.ran || r.exit_status != 0) return "";
    while (!r.output.empty() && (r.output.back() == '\n' || r.output.back() == '\r'))
        r.output.pop_back();
    // gpgconf percent-escapes some characters (":" as %3a); such a path is not probed.
    return r.output.find('%') == std::string::npos ? r.output : "";
}

bool agent_answers(const std::string& socket_path) {
    sockaddr_un addr{};
    if (socket_path.empty() || socket_path.size() >= sizeof addr.sun_path) return false;
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
    FileDescriptor sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    return sock.valid() &&
           ::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

void stop_agent(const SigningOptions& options) {
    std::vector<std::string> argv = {"gpgconf"};
    if (options.gpg_home) argv.insert(argv.end(), {"--homedir", *options.gpg_home});
    argv.insert(argv.end(), {"--kill", "gpg-agent"});
    (void)run_process(argv);  // best effort: the signatures are already written
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
    if (options_.gpg_home) {
        struct stat st {};
        if (::stat(options_.gpg_home->c_str(), &st) != 0)
            throw Error("signing: --gpg-home " + *options_.gpg_home + ": " + std::strerror(errno));
        if (!S_ISDIR(st.st_mode))
            throw Error("signing: --gpg-home " + *options_.gpg_home + " is not a directory");
    }
    if (options_.passphrase_file) {
        auto text = read_file_if_present(*options_.passphrase_file, 64 << 10);
        if (!text) {
            throw Error("signing: cannot read --passphrase-file " + *options_.passphrase_file +
                        ": " + std::strerror(errno));
        }
        passphrase_ = text->substr(0, text->find('\n'));
        if (!passphrase_.empty() && passphrase_.back() == '\r') passphrase_.pop_back();
    }
    stop_agent_ = !agent_answers(agent_socket(options_));
    try {
        Context ctx = new_context(options_);
        Key key = secret_key(ctx.get(), options_);
        if (!key->can_sign || !key->subkeys || !key->subkeys->fpr) {
            throw Error("signing: key " + options_.key_id + " cannot sign");
        }
        fingerprint_ = key->subkeys->fpr;
        MemoryReader probe("docker2aci signing check\n");
        (void)sign(probe, &algorithm_);
    } catch (...) {  // stop what the failed check started; the error goes on
        if (stop_agent_) stop_agent(options_);
        throw;
    }
}

Signer::~Signer() {
    stop_started_agent();
}

void Signer::stop_started_agent() const {
    if (stop_agent_) stop_agent(options_);
}

std::string Signer::sign(Reader& data) const {
    return sign(data, nullptr);
}

std::string Signer::sign(Reader& data, std::string* algorithm) const {
    Context ctx = new_context(options_, options_.passphrase_file ? &passphrase_ : nullptr);
    Key key = secret_key(ctx.get(), options_);
    check(gpgme_signers_add(ctx.get(), key.get()), "key " + options_.key_id);
    gpgme_data_cbs callbacks;
    Data in = data_from(data, callbacks);
    Data out = memory_buffer();
    check_signing(gpgme_op_sign(ctx.get(), in.get(), out.get(), GPGME_SIG_MODE_DETACH), options_);
    if (algorithm) {
        gpgme_sign_result_t result = gpgme_op_sign_result(ctx.get());
        const char* name = result && result->signatures
                               ? gpgme_pubkey_algo_name(result->signatures->pubkey_algo)
                               : nullptr;
        *algorithm = name ? name : "unknown";
    }
    std::string signature = take_bytes(std::move(out));
    if (signature.empty()) throw Error("signing: key " + options_.key_id + ": empty signature");
    return signature;
}

std::optional<std::string> Signer::rkt_cannot_verify() const {
    // rkt's OpenPGP code (Go's x/crypto/openpgp) verifies RSA, DSA and ECDSA signatures;
    // EdDSA (Ed25519, gpg's default key on Debian 12) fails there with "unsupported
    // feature: public key type: 22".
    if (algorithm_ != "EdDSA") return std::nullopt;
    return "key " + options_.key_id + " signs with " + algorithm_ +
           ", which rkt cannot verify (\"unsupported feature: public key type: 22\"): sign "
           "with an RSA key for rkt (gpg --quick-gen-key NAME rsa3072 sign)";
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
    if (gpgme_op_verify(ctx.get(), sig.get(), text.get(), nullptr) != GPG_ERR_NO_ERROR)
        return false;
    gpgme_verify_result_t result = gpgme_op_verify_result(ctx.get());
    if (!result || !result->signatures) return false;
    Key key = secret_key(ctx.get(), options_);
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
