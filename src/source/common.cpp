// What every source shares: metadata JSON parsing, --image selection, the layer/diff_id
// pairing rule, blob paths inside layouts (the depth limit for nested indexes is in
// source.hpp).
#include <nlohmann/json.hpp>
#include <set>

#include "source/common.hpp"
#include "util/error.hpp"
#include "util/json.hpp"

namespace d2a {

using nlohmann::json;

json parse_metadata_json(const std::string& text, const std::string& what) {
    return parse_untrusted_json(text, what);
}

namespace {

// The repository a reference names, without its tag or digest.
std::string repository_of(Reference r) {
    r.tag.clear();
    r.digest.clear();
    return r.canonical();
}

std::string describe(const ImageCandidate& c) {
    if (c.names.empty()) return c.unnamed;
    std::string out;
    for (const auto& n : c.names) out += (out.empty() ? "" : " ") + n.spelling;
    return out;
}

// What tells images apart without --image: the first name, else the unnamed label.
std::string identity(const ImageCandidate& c) {
    if (c.names.empty()) return "\n" + c.unnamed;
    const auto& n = c.names.front();
    return n.reference ? n.reference->canonical() : n.spelling;
}

std::string list_of(const std::vector<ImageCandidate>& candidates) {
    std::string out;
    std::set<std::string> listed;
    for (const auto& c : candidates) {
        if (!listed.insert(identity(c)).second) continue;
        out += (out.empty() ? "" : ", ") + describe(c);
    }
    return out;
}

}  // namespace

ImageSelection select_image(const std::vector<ImageCandidate>& candidates,
                            const std::optional<std::string>& wanted, const std::string& where) {
    if (candidates.empty()) throw Error(where + ": holds no image");
    ImageSelection chosen;
    if (!wanted) {
        std::set<std::string> images;
        for (const auto& c : candidates) images.insert(identity(c));
        if (images.size() > 1) {
            throw Error(where + " holds " + std::to_string(images.size()) +
                        " images; pick one with --image: " + list_of(candidates));
        }
        for (size_t i = 0; i < candidates.size(); ++i) chosen.indexes.push_back(i);
        for (const auto& n : candidates.front().names) {
            if (n.reference) {
                chosen.reference = n.reference;
                break;
            }
        }
        return chosen;
    }
    std::optional<Reference> want;
    std::string want_repository;
    try {
        want = Reference::parse(*wanted);
        want_repository = repository_of(*want);
    } catch (const Error&) {  // not a reference: it can still match a name as written
    }
    // Candidates by how they match: exactly (as written, or with the tag asked for), or by
    // repository only (for a name given without a tag).
    struct Match {
        size_t index;
        const ImageCandidate::Name* name;
    };
    std::vector<Match> exact, latest, same_repository;
    for (size_t i = 0; i < candidates.size(); ++i) {
        for (const auto& n : candidates[i].names) {
            const bool same_repo =
                want && n.reference && repository_of(*n.reference) == want_repository;
            if (n.spelling == *wanted ||
                (same_repo && !want->tag.empty() && n.reference->tag_or_latest() == want->tag)) {
                exact.push_back({i, &n});
                break;
            }
            if (!same_repo || !want->tag.empty()) continue;
            if (n.reference->tag_or_latest() == "latest") latest.push_back({i, &n});
            same_repository.push_back({i, &n});
        }
    }
    const std::vector<Match>* matches = !exact.empty()    ? &exact
                                        : !latest.empty() ? &latest
                                                          : nullptr;
    if (!matches && !same_repository.empty()) {
        std::set<std::string> tags;
        for (const auto& m : same_repository) tags.insert(m.name->reference->tag_or_latest());
        if (tags.size() == 1) matches = &same_repository;
    }
    if (!matches) {
        throw Error("image " + *wanted + " not found in " + where +
                    "; it holds: " + list_of(candidates));
    }
    for (const auto& m : *matches) {
        if (chosen.indexes.empty() || chosen.indexes.back() != m.index)
            chosen.indexes.push_back(m.index);
    }
    chosen.reference = matches->front().name->reference;
    return chosen;
}

void check_layer_count(const ImageConfig& config, size_t layers, const std::string& where) {
    if (config.has_rootfs && config.diff_ids.size() != layers) {
        throw Error(where + " lists " + std::to_string(layers) + " layers but the config has " +
                    std::to_string(config.diff_ids.size()) + " diff_ids");
    }
}

std::string blob_path(const Digest& digest) {
    return "blobs/" + digest.algorithm_name() + "/" + digest.hex;
}

}  // namespace d2a
