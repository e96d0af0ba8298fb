// Registry authentication: WWW-Authenticate challenges and where credentials come from.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace d2a {

struct Challenge {
    std::string scheme;                         // lower-cased: "bearer", "basic"
    std::map<std::string, std::string> params;  // names lower-cased, values unquoted
};

// Parses a WWW-Authenticate value (RFC 7235): several challenges, parameters in any order,
// quoted values with escapes and commas inside quotes.
std::vector<Challenge> parse_www_authenticate(std::string_view header);

struct Credentials {
    std::string username;
    std::string password;
    // An OAuth2 refresh token from `docker login` ("identitytoken" in config.json, or a
    // helper's answer with Username "<token>"): exchanged at the token realm by POST.
    std::string identity_token;
};

struct CredentialOptions {
    std::optional<std::string> username;  // --username
    std::optional<std::string> password;  // from stdin or DOCKER2ACI_PASSWORD
};

// Credentials for `registry` (host[:port]), looked up as the docker CLI and skopeo do:
// --username, then REGISTRY_AUTH_FILE, then $DOCKER_CONFIG/config.json or
// ~/.docker/config.json (credHelpers, auths, credsStore).
std::optional<Credentials> find_credentials(const std::string& registry,
                                            const CredentialOptions& options);

// Runs `docker-credential-<helper> get` for `server` (the credential helper protocol).
std::optional<Credentials> credentials_from_helper(const std::string& helper,
                                                   const std::string& server);

std::string base64_encode(std::string_view in);
std::string base64_decode(std::string_view in);

}  // namespace d2a
