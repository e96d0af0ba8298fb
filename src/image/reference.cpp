#include "image/reference.hpp"

#include "util/digest.hpp"
#include "util/error.hpp"
#include "util/path.hpp"

namespace d2a {

namespace {

bool is_path_component(std::string_view c) {
    // [a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*
    if (c.empty()) return false;
    auto alnum = [](char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'); };
    if (!alnum(c.front()) || !alnum(c.back())) return false;
    for (size_t i = 0; i < c.size(); ++i) {
        char ch = c[i];
        if (alnum(ch)) continue;
        if (ch == '.' || ch == '_' || ch == '-') {
            if (ch == '.' && (c[i + 1] == '.' || c[i - 1] == '.')) return false;
            continue;
        }
        return false;
    }
    return true;
}

bool is_tag(std::string_view t) {
    if (t.empty() || t.size() > 128) return false;
    auto word = [](char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
               ch == '_';
    };
    if (!word(t.front())) return false;
    for (char ch : t) {
        if (!word(ch) && ch != '.' && ch != '-') return false;
    }
    return true;
}

bool is_domain(std::string_view d) {
    if (d.empty() || d.find("..") != std::string_view::npos) return false;
    auto alnum = [](char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
    };
    if (!alnum(d.front()) && d.front() != '[') return false;
    for (char ch : d) {
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == ':' || ch == '[' ||
                  ch == ']';
        if (!ok) return false;
    }
    return true;
}

}  // namespace

Reference Reference::parse(std::string_view text) {
    Reference r;
    r.original = std::string(text);
    auto bad = [&](const std::string& why) {
        return Error("invalid image reference \"" + std::string(text.substr(0, 200)) +
                     "\": " + why);
    };
    if (text.empty()) throw bad("empty");
    std::string_view rest = text;
    if (auto at = rest.find('@'); at != std::string_view::npos) {
        std::string_view digest = rest.substr(at + 1);
        if (!Digest::try_parse(digest)) throw bad("bad digest");
        r.digest = std::string(digest);
        rest = rest.substr(0, at);
    }
    // A tag follows the last ':' after the last '/'.
    size_t last_slash = rest.rfind('/');
    size_t colon = rest.rfind(':');
    if (colon != std::string_view::npos &&
        (last_slash == std::string_view::npos || colon > last_slash)) {
        std::string_view tag = rest.substr(colon + 1);
        if (!is_tag(tag)) throw bad("bad tag \"" + std::string(tag) + "\"");
        r.tag = std::string(tag);
        rest = rest.substr(0, colon);
    }
    size_t first_slash = rest.find('/');
    if (first_slash != std::string_view::npos) {
        std::string_view first = rest.substr(0, first_slash);
        if (first.find('.') != std::string_view::npos ||
            first.find(':') != std::string_view::npos || first == "localhost") {
            if (!is_domain(first)) throw bad("bad registry \"" + std::string(first) + "\"");
            r.domain = std::string(first);
            rest = rest.substr(first_slash + 1);
        }
    }
    if (rest.empty()) throw bad("no repository name");
    for_each_component(rest, [&](std::string_view part) {
        if (!is_path_component(part)) {
            throw bad("repository names are lower-case letters, digits and separators");
        }
    });
    r.path = std::string(rest);
    if (r.path.size() > 255) throw bad("repository name longer than 255 characters");
    return r;
}

std::string Reference::registry() const {
    if (domain.empty() || domain == "docker.io" || domain == "index.docker.io") {
        return "registry-1.docker.io";
    }
    return domain;
}

std::string Reference::repository() const {
    bool hub = registry() == "registry-1.docker.io";
    if (hub && path.find('/') == std::string::npos) return "library/" + path;
    return path;
}

Reference Reference::familiar() const {
    Reference r = *this;
    if (domain == "docker.io" || domain == "index.docker.io") {
        r.domain.clear();
        if (r.path.rfind("library/", 0) == 0 && r.path.find('/', 8) == std::string::npos) {
            r.path = r.path.substr(8);
        }
        r.original = r.name() + (r.tag.empty() ? "" : ":" + r.tag) +
                     (r.digest.empty() ? "" : "@" + r.digest);
    }
    return r;
}

std::string Reference::canonical() const {
    std::string d = domain.empty() || domain == "index.docker.io" ? "docker.io" : domain;
    std::string out = d + "/" + (d == "docker.io" ? repository() : path);
    if (!digest.empty()) return out + "@" + digest;
    return out + ":" + tag_or_latest();
}

}  // namespace d2a
