// Signer, the gpgme signer itself (publish_test.cpp uses a fake DetachedSigner), against
// keys made by gpg in a home of the test's own: its signatures verify with gpg and with
// verifies(), another key's do not; an EdDSA key is named as one rkt cannot verify; the
// exported public key lets another home verify; each way a key can be unusable is a
// one-line error before anything is signed; a key behind a passphrase signs with the
// passphrase file and not without; the gpg-agent that signing started is gone afterwards.
#include "publish/signer.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "support/helpers.hpp"
#include "util/error.hpp"
#include "util/process.hpp"
#include "util/stream.hpp"

namespace d2a {
namespace {

using testing::error_of;
using testing::TempDir;

// gpg in `home`; its exit status.
int gpg(const std::string& home, std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), {"gpg", "--homedir", home, "--batch", "--quiet"});
    ProcessResult r = run_process(args, input);
    return r.ran ? r.exit_status : -1;
}

void kill_agent(const std::string& home) {
    (void)run_process({"gpgconf", "--homedir", home, "--kill", "gpg-agent"});
}

bool agent_answers(const std::string& home) {
    ProcessResult r = run_process(
        {"gpg-connect-agent", "--homedir", home, "--no-autostart", "GETINFO pid", "/bye"});
    return r.ran && r.exit_status == 0 && r.output.find("D ") != std::string::npos;
}

std::string write_file(const std::filesystem::path& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
    return path.string();
}

std::string sign_text(const DetachedSigner& signer, const std::string& text) {
    MemoryReader reader(text);
    return signer.sign(reader);
}

bool verifies(const DetachedSigner& signer, const std::string& text, const std::string& signature) {
    MemoryReader reader(text);
    return signer.verifies(reader, signature);
}

// One home for the suite: making keys is the slow part.
class SignerTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        dir_ = new TempDir();
        home_ = new std::string((dir_->path() / "home").string());
        std::filesystem::create_directory(*home_);
        std::filesystem::permissions(*home_, std::filesystem::perms::owner_all);
        const std::string no_pass = "--passphrase=";
        ASSERT_EQ(gpg(*home_, {"--pinentry-mode", "loopback", no_pass, "--quick-gen-key",
                               "rsa <rsa@example.invalid>", "rsa2048", "sign", "never"}),
                  0);
        ASSERT_EQ(gpg(*home_, {"--pinentry-mode", "loopback", no_pass, "--quick-gen-key",
                               "other <other@example.invalid>", "rsa2048", "sign", "never"}),
                  0);
        ASSERT_EQ(gpg(*home_, {"--pinentry-mode", "loopback", no_pass, "--quick-gen-key",
                               "eddsa <eddsa@example.invalid>", "ed25519", "sign", "never"}),
                  0);
        ASSERT_EQ(gpg(*home_, {"--pinentry-mode", "loopback", "--passphrase=s3cret phrase",
                               "--quick-gen-key", "locked <locked@example.invalid>", "rsa2048",
                               "sign", "never"}),
                  0);
        // Each test's signer starts (and stops) an agent of its own: nothing cached.
        kill_agent(*home_);
    }
    static void TearDownTestSuite() {
        kill_agent(*home_);
        delete home_;
        delete dir_;
    }
    void TearDown() override { kill_agent(*home_); }

    static SigningOptions key(const std::string& id) {
        SigningOptions o;
        o.key_id = id;
        o.gpg_home = *home_;
        return o;
    }

    static TempDir* dir_;
    static std::string* home_;
};
TempDir* SignerTest::dir_ = nullptr;
std::string* SignerTest::home_ = nullptr;

TEST_F(SignerTest, SignsWhatGpgVerifiesAndOnlyThat) {
    Signer signer(key("rsa@example.invalid"));
    const std::string text = "an ACI's bytes\n" + std::string(100000, 'x');
    const std::string signature = sign_text(signer, text);
    EXPECT_TRUE(signature.starts_with("-----BEGIN PGP SIGNATURE-----\n")) << signature;
    EXPECT_TRUE(verifies(signer, text, signature));
    EXPECT_FALSE(verifies(signer, text + "!", signature));
    EXPECT_FALSE(verifies(signer, text, "not a signature"));
    EXPECT_EQ(signer.rkt_cannot_verify(), std::nullopt);

    TempDir files;
    const auto data = write_file(files.path() / "data", text);
    const auto sig = write_file(files.path() / "data.asc", signature);
    EXPECT_EQ(gpg(*home_, {"--verify", sig, data}), 0);
    write_file(files.path() / "data", text + "!");
    EXPECT_NE(gpg(*home_, {"--verify", sig, data}), 0);
}

TEST_F(SignerTest, AnotherKeysGoodSignatureIsNotThisSignersOwn) {
    Signer rsa(key("rsa@example.invalid"));
    Signer other(key("other@example.invalid"));
    const std::string signature = sign_text(other, "text");
    EXPECT_TRUE(verifies(other, "text", signature));
    EXPECT_FALSE(verifies(rsa, "text", signature));
}

TEST_F(SignerTest, AnEdDsaKeySignsAndIsNamedAsOneRktCannotVerify) {
    Signer signer(key("eddsa@example.invalid"));
    EXPECT_TRUE(verifies(signer, "text", sign_text(signer, "text")));
    EXPECT_EQ(signer.rkt_cannot_verify(),
              "key eddsa@example.invalid signs with EdDSA, which rkt cannot verify "
              "(\"unsupported feature: public key type: 22\"): sign with an RSA key for rkt "
              "(gpg --quick-gen-key NAME rsa3072 sign)");
}

TEST_F(SignerTest, TheExportedPublicKeyVerifiesInAnotherHome) {
    Signer signer(key("rsa@example.invalid"));
    const std::string public_key = signer.export_public_key();
    EXPECT_TRUE(public_key.starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----\n"));
    EXPECT_EQ(public_key.find("PRIVATE"), std::string::npos);

    TempDir other;
    const std::string home = (other.path() / "home").string();
    std::filesystem::create_directory(home);
    std::filesystem::permissions(home, std::filesystem::perms::owner_all);
    const auto data = write_file(other.path() / "data", "text");
    const auto sig = write_file(other.path() / "data.asc", sign_text(signer, "text"));
    EXPECT_NE(gpg(home, {"--verify", sig, data}), 0);  // not yet: the key is unknown there
    ASSERT_EQ(gpg(home, {"--import"}, public_key), 0);
    EXPECT_EQ(gpg(home, {"--verify", sig, data}), 0);
    EXPECT_NE(gpg(home, {"--list-secret-keys", "rsa@example.invalid"}), 0);  // no secret part
    kill_agent(home);
}

TEST_F(SignerTest, AnUnusableKeyFailsBeforeAnythingIsSigned) {
    EXPECT_EQ(error_of([&] { Signer s(key("nobody@example.invalid")); }),
              "signing: no secret key \"nobody@example.invalid\" in " + *home_);
    EXPECT_EQ(error_of([&] { Signer s(key("example.invalid")); }),
              "signing: several secret keys match \"example.invalid\" in " + *home_ +
                  ": give the fingerprint");
    SigningOptions missing = key("rsa@example.invalid");
    missing.gpg_home = *home_ + "/no-such-home";
    EXPECT_EQ(error_of([&] { Signer s(missing); }),
              "signing: --gpg-home " + *home_ + "/no-such-home: No such file or directory");
    TempDir files;
    SigningOptions file_home = key("rsa@example.invalid");
    file_home.gpg_home = write_file(files.path() / "file", "");
    EXPECT_EQ(error_of([&] { Signer s(file_home); }),
              "signing: --gpg-home " + *file_home.gpg_home + " is not a directory");
    SigningOptions no_passphrase_file = key("rsa@example.invalid");
    no_passphrase_file.passphrase_file = (files.path() / "absent").string();
    EXPECT_EQ(error_of([&] { Signer s(no_passphrase_file); }),
              "signing: cannot read --passphrase-file " + *no_passphrase_file.passphrase_file +
                  ": No such file or directory");
}

TEST_F(SignerTest, AKeyBehindAPassphraseSignsWithThePassphraseFileOnly) {
    EXPECT_EQ(error_of([&] { Signer s(key("locked@example.invalid")); }),
              "signing: key locked@example.invalid needs a passphrase and there is no terminal "
              "to ask for it: give it with --passphrase-file FILE, or unlock the key in "
              "gpg-agent first (gpg-preset-passphrase)");
    TempDir files;
    SigningOptions wrong = key("locked@example.invalid");
    wrong.passphrase_file = write_file(files.path() / "wrong", "not it\n");
    EXPECT_EQ(error_of([&] { Signer s(wrong); }),
              "signing: key locked@example.invalid: wrong passphrase in " + *wrong.passphrase_file);
    SigningOptions right = key("locked@example.invalid");
    // The first line only, without its line end (a file written on Windows too).
    right.passphrase_file = write_file(files.path() / "right", "s3cret phrase\r\nignored\n");
    Signer signer(right);
    EXPECT_TRUE(verifies(signer, "text", sign_text(signer, "text")));
}

TEST_F(SignerTest, TheAgentSigningStartedIsStoppedAndAUsersOwnIsLeftAlone) {
    ASSERT_FALSE(agent_answers(*home_));
    {
        Signer signer(key("rsa@example.invalid"));
        (void)sign_text(signer, "text");
        EXPECT_TRUE(agent_answers(*home_));
    }
    // Told to stop; it may take a moment to go (5 s at most here).
    for (int i = 0; i < 50 && agent_answers(*home_); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_FALSE(agent_answers(*home_));

    // An agent that was running before (a user's own) keeps running.
    ASSERT_EQ(run_process({"gpg-connect-agent", "--homedir", *home_, "/bye"}).exit_status, 0);
    ASSERT_TRUE(agent_answers(*home_));
    { Signer signer(key("rsa@example.invalid")); }
    EXPECT_TRUE(agent_answers(*home_));
}

}  // namespace
}  // namespace d2a
