// A small tar indexer: headers only, data located by offset. Handles ustar, GNU long
// names and base-256 numbers, and PAX path/linkpath/size records.
//
// Why not libarchive, which reads the layers: an outer archive is read by random access,
// each member opened on its own and several at once (layers read in parallel, metadata
// files in any order, symlinked layer.tar entries followed), straight from the file by
// offset with pread. libarchive reads an archive as one forward stream; reopening it per
// member would re-read the whole archive each time, or spool members to disk. The indexer
// reads only headers (the outer format is plain tar: compressed outer archives are first
// decompressed to a seekable file by local_input), and its limits are fuzzed
// (fuzz/fuzz_tar_index.cpp) and unit-tested (tests/source/tar_bundle_test.cpp).
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "source/bundle.hpp"
#include "util/error.hpp"
#include "util/path.hpp"

namespace d2a {

namespace {

constexpr size_t kBlock = 512;
constexpr uint64_t kMaxLongName = 1 << 20;
constexpr size_t kMaxMembers = 1'000'000;
constexpr int kMaxLinkHops = 16;

bool parse_number(const unsigned char* field, size_t len, uint64_t& out) {
    if (field[0] & 0x80) {
        // base-256: big-endian two's complement; negative values are rejected.
        if (field[0] & 0x40) return false;
        uint64_t v = field[0] & 0x3f;
        for (size_t i = 1; i < len; ++i) {
            if (v >> 56) return false;
            v = (v << 8) | field[i];
        }
        out = v;
        return true;
    }
    uint64_t v = 0;
    size_t i = 0;
    while (i < len && (field[i] == ' ' || field[i] == 0)) ++i;
    bool any = false;
    for (; i < len && field[i] >= '0' && field[i] <= '7'; ++i) {
        if (v >> 60) return false;
        v = v * 8 + (field[i] - '0');
        any = true;
    }
    for (; i < len; ++i) {
        if (field[i] != ' ' && field[i] != 0) return false;
    }
    out = any ? v : 0;
    return true;
}

std::string field_string(const unsigned char* f, size_t len) {
    size_t n = 0;
    while (n < len && f[n]) ++n;
    return std::string(reinterpret_cast<const char*>(f), n);
}

bool checksum_ok(const unsigned char* h) {
    uint64_t stored = 0;
    if (!parse_number(h + 148, 8, stored)) return false;
    uint64_t unsigned_sum = 0;
    int64_t signed_sum = 0;
    for (size_t i = 0; i < kBlock; ++i) {
        unsigned char c = (i >= 148 && i < 156) ? ' ' : h[i];
        unsigned_sum += c;
        signed_sum += static_cast<signed char>(c);
    }
    return stored == unsigned_sum || static_cast<int64_t>(stored) == signed_sum;
}

// `size` is UINT64_MAX when the header sets none.
void parse_pax(const std::string& data, std::string& path, std::string& linkpath, uint64_t& size,
               const std::string& where) {
    size_t pos = 0;
    while (pos < data.size()) {
        size_t space = data.find(' ', pos);
        if (space == std::string::npos) throw Error(where + ": malformed PAX header");
        uint64_t len = 0;
        for (size_t i = pos; i < space; ++i) {
            if (data[i] < '0' || data[i] > '9' || len > data.size()) {
                throw Error(where + ": malformed PAX header");
            }
            len = len * 10 + (data[i] - '0');
        }
        if (len < space - pos + 2 || pos + len > data.size() || data[pos + len - 1] != '\n') {
            throw Error(where + ": malformed PAX record length");
        }
        std::string record = data.substr(space + 1, pos + len - space - 2);
        size_t eq = record.find('=');
        if (eq == std::string::npos) throw Error(where + ": malformed PAX record");
        std::string key = record.substr(0, eq);
        std::string value = record.substr(eq + 1);
        if (key == "path") path = value;
        if (key == "linkpath") linkpath = value;
        if (key == "size") {
            uint64_t v = 0;
            if (value.empty() || value.size() > 18) throw Error(where + ": bad PAX size");
            for (char c : value) {
                if (c < '0' || c > '9') throw Error(where + ": bad PAX size");
                v = v * 10 + (c - '0');
            }
            size = v;
        }
        pos += len;
    }
}

}  // namespace

TarBundle::TarBundle(std::shared_ptr<FileDescriptor> file, std::string name)
    : file_(std::move(file)), name_(std::move(name)) {
    const uint64_t total = file_size(file_->get());
    uint64_t pos = 0;
    std::string long_name;
    std::string long_link;
    std::string pax_path;
    std::string pax_link;
    uint64_t pax_size = UINT64_MAX;
    unsigned char h[kBlock];
    auto where = [&] { return describe() + " at offset " + std::to_string(pos); };
    auto read_block_data = [&](uint64_t offset, uint64_t len) {
        std::string data(len, '\0');
        uint64_t done = 0;
        while (done < len) {
            ssize_t got = ::pread(file_->get(), data.data() + done, len - done,
                                  static_cast<off_t>(offset + done));
            if (got <= 0) throw Error(where() + ": cannot read");
            done += static_cast<uint64_t>(got);
        }
        return data;
    };
    for (;;) {
        if (pos + kBlock > total) {
            if (pos == total) break;  // no end-of-archive blocks: accept, as GNU tar does
            throw Error(describe() + ": truncated archive (partial header at offset " +
                        std::to_string(pos) + ")");
        }
        if (::pread(file_->get(), h, kBlock, static_cast<off_t>(pos)) != kBlock) {
            throw Error(where() + ": cannot read");
        }
        bool zero = true;
        for (unsigned char c : h) {
            if (c) {
                zero = false;
                break;
            }
        }
        if (zero) break;
        if (!checksum_ok(h)) {
            throw Error(where() +
                        ": not a tar header (bad checksum); the archive is corrupt or "
                        "not a tar file");
        }
        uint64_t size = 0;
        if (!parse_number(h + 124, 12, size)) throw Error(where() + ": bad size field");
        char type = static_cast<char>(h[156]);
        if (pax_size != UINT64_MAX && type != 'x' && type != 'g' && type != 'L' && type != 'K') {
            size = pax_size;
        }
        uint64_t data_off = pos + kBlock;
        if (size > total || data_off + size > total) {
            throw Error(describe() + ": truncated archive (entry at offset " + std::to_string(pos) +
                        " runs past the end)");
        }
        uint64_t next = data_off + ((size + kBlock - 1) / kBlock) * kBlock;
        if (type == 'L' || type == 'K' || type == 'x') {
            if (size > kMaxLongName) throw Error(where() + ": extended header too large");
            std::string data = read_block_data(data_off, size);
            if (type == 'L')
                long_name =
                    field_string(reinterpret_cast<const unsigned char*>(data.data()), data.size());
            if (type == 'K')
                long_link =
                    field_string(reinterpret_cast<const unsigned char*>(data.data()), data.size());
            if (type == 'x') parse_pax(data, pax_path, pax_link, pax_size, where());
            pos = next;
            continue;
        }
        if (type == 'g') {
            pos = next;
            continue;
        }
        std::string raw = field_string(h, 100);
        bool ustar = std::memcmp(h + 257, "ustar\0", 6) == 0;
        if (ustar && h[345]) raw = field_string(h + 345, 155) + "/" + raw;
        if (!long_name.empty()) raw = long_name;
        if (!pax_path.empty()) raw = pax_path;
        Member m;
        m.type = type == 0 ? '0' : type;
        m.offset = data_off;
        m.size = (m.type == '0' || m.type == '7') ? size : 0;
        m.link = field_string(h + 157, 100);
        if (!long_link.empty()) m.link = long_link;
        if (!pax_link.empty()) m.link = pax_link;
        std::string normalized =
            with_context(describe(), [&] { return normalize_entry_path(raw); });
        if (members_.size() >= kMaxMembers) throw Error(describe() + ": too many entries");
        members_[normalized] = std::move(m);  // a later entry of one name replaces the earlier
        long_name.clear();
        long_link.clear();
        pax_path.clear();
        pax_link.clear();
        pax_size = UINT64_MAX;
        pos = next;
    }
}

std::string TarBundle::resolve(std::string_view path) const {
    std::string current = with_context(describe(), [&] { return normalize_entry_path(path); });
    for (int hop = 0; hop <= kMaxLinkHops; ++hop) {
        auto it = members_.find(current);
        if (it == members_.end()) return current;
        const Member& m = it->second;
        if (m.type == '2') {
            current =
                with_context(describe(), [&] { return resolve_link_target(current, m.link); });
        } else if (m.type == '1') {
            current = with_context(describe(), [&] { return normalize_entry_path(m.link); });
        } else {
            return current;
        }
    }
    throw Error(describe() + ": too many levels of links at " + std::string(path));
}

const TarBundle::Member* TarBundle::find(std::string_view path) const {
    auto it = members_.find(resolve(path));
    if (it == members_.end() || (it->second.type != '0' && it->second.type != '7')) return nullptr;
    return &it->second;
}

bool TarBundle::exists(std::string_view path) const {
    return find(path) != nullptr;
}

uint64_t TarBundle::size(std::string_view path) const {
    const Member* m = find(path);
    if (!m) throw Error(describe() + ": " + std::string(path) + " not found");
    return m->size;
}

std::unique_ptr<Reader> TarBundle::open(std::string_view path) const {
    const Member* m = find(path);
    if (!m) throw Error(describe() + ": " + std::string(path) + " not found");
    return std::make_unique<RangeReader>(file_, m->offset, m->size,
                                         describe() + ": " + std::string(path));
}

}  // namespace d2a
