#include "aci/gzip_block.hpp"

#include <libdeflate.h>

#include <array>
#include <cmath>
#include <cstring>
#include <string>

#include "util/error.hpp"

namespace d2a {

namespace {

// Above this many bits per byte a chunk is stored: deflate would spend ~8 ns a byte to
// gain under 1.5%, on bytes that are usually compressed already (jars, images, archives).
constexpr double kStoredEntropy = 7.9;
// A block whose bytes average above this compresses poorly, so extra effort pays little.
constexpr double kPoorEntropy = 6.5;
constexpr int kPoorBlockMaxLevel = 4;

using Histogram = std::array<uint32_t, 256>;

Histogram count_bytes(const unsigned char* p, size_t n) {
    // Four tables so that runs of one byte value do not serialise on a single counter.
    uint32_t t[4][256] = {};
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        ++t[0][p[i]];
        ++t[1][p[i + 1]];
        ++t[2][p[i + 2]];
        ++t[3][p[i + 3]];
    }
    for (; i < n; ++i) ++t[0][p[i]];
    Histogram h;
    for (int b = 0; b < 256; ++b) h[b] = t[0][b] + t[1][b] + t[2][b] + t[3][b];
    return h;
}

// c * log2(c) for every count a chunk can hold.
const std::array<double, kEntropyChunk + 1>& c_log2_c() {
    static const auto table = [] {
        std::array<double, kEntropyChunk + 1> t{};
        for (size_t c = 1; c <= kEntropyChunk; ++c) {
            t[c] = static_cast<double>(c) * std::log2(static_cast<double>(c));
        }
        return t;
    }();
    return table;
}

// Order-0 entropy in bits per byte, with the Miller-Madow correction so that small samples
// of random bytes still come out near 8 (the plain estimate of 2048 random bytes is ~7.91).
double entropy(const Histogram& h, size_t n) {
    if (n == 0) return 0;
    const auto& table = c_log2_c();
    double sum = 0;
    int distinct = 0;
    for (uint32_t c : h) {
        if (c == 0) continue;
        ++distinct;
        sum += c <= kEntropyChunk ? table[c]
                                  : static_cast<double>(c) * std::log2(static_cast<double>(c));
    }
    const double total = static_cast<double>(n);
    double plain = std::log2(total) - sum / total;
    return plain + (distinct - 1) / (2.0 * total * std::log(2.0));
}

void put_le32(std::vector<unsigned char>& out, uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<unsigned char>(v >> (8 * i)));
}

// RFC 1952 member header: deflate, no name, no time, "unknown" OS so the bytes do not
// depend on the machine.
void put_gzip_header(std::vector<unsigned char>& out) {
    static constexpr unsigned char kHeader[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};
    out.insert(out.end(), kHeader, kHeader + sizeof kHeader);
}

// RFC 1951 stored blocks (byte aligned, at most 65535 bytes each).
void put_stored(std::vector<unsigned char>& out, const unsigned char* p, size_t n, bool last) {
    do {
        size_t k = std::min<size_t>(n, 0xffff);
        bool final_block = last && k == n;
        out.push_back(final_block ? 1 : 0);
        out.push_back(static_cast<unsigned char>(k));
        out.push_back(static_cast<unsigned char>(k >> 8));
        out.push_back(static_cast<unsigned char>(~k));
        out.push_back(static_cast<unsigned char>(~k >> 8));
        out.insert(out.end(), p, p + k);
        p += k;
        n -= k;
    } while (n > 0);
}

}  // namespace

std::vector<GzipPiece> plan_gzip_block(std::span<const unsigned char> block, int level) {
    std::vector<bool> random_chunk;
    random_chunk.reserve(block.size() / kEntropyChunk + 1);
    Histogram whole{};
    for (size_t off = 0; off < block.size(); off += kEntropyChunk) {
        size_t n = std::min(kEntropyChunk, block.size() - off);
        Histogram h = count_bytes(block.data() + off, n);
        for (int b = 0; b < 256; ++b) whole[b] += h[b];
        random_chunk.push_back(entropy(h, n) > kStoredEntropy);
    }
    const int deflate_level =
        entropy(whole, block.size()) > kPoorEntropy ? std::min(level, kPoorBlockMaxLevel) : level;

    std::vector<GzipPiece> pieces;
    for (size_t i = 0; i < random_chunk.size(); ++i) {
        int piece_level = random_chunk[i] ? 0 : deflate_level;
        size_t off = i * kEntropyChunk;
        size_t n = std::min(kEntropyChunk, block.size() - off);
        if (!pieces.empty() && pieces.back().level == piece_level) {
            pieces.back().size += n;
        } else {
            pieces.push_back({off, n, piece_level});
        }
    }
    return pieces;
}

void GzipBlockEncoder::Free::operator()(libdeflate_compressor* c) const {
    libdeflate_free_compressor(c);
}

GzipBlockEncoder::GzipBlockEncoder(int level) : level_(level) {}
GzipBlockEncoder::~GzipBlockEncoder() = default;
GzipBlockEncoder::GzipBlockEncoder(GzipBlockEncoder&&) noexcept = default;
GzipBlockEncoder& GzipBlockEncoder::operator=(GzipBlockEncoder&&) noexcept = default;

libdeflate_compressor* GzipBlockEncoder::compressor_for(int level) {
    auto& c = by_level_[level];
    if (!c) {
        c.reset(libdeflate_alloc_compressor(level));
        if (!c)
            throw Error("cannot allocate a gzip compressor (level " + std::to_string(level) + ")");
    }
    return c.get();
}

// A deflate stream from libdeflate always ends with its final block, so a member closes
// after each deflated piece; stored pieces before it share its member. A reader sees
// concatenated members, which RFC 1952 allows and every gzip reader accepts.
void GzipBlockEncoder::encode(std::span<const unsigned char> in, std::vector<unsigned char>& out) {
    out.clear();
    out.reserve(in.size() + in.size() / 64 + 64);
    std::vector<GzipPiece> pieces = plan_gzip_block(in, level_);
    bool member_open = false;
    uint32_t crc = 0;
    uint32_t member_size = 0;
    auto open_member = [&] {
        put_gzip_header(out);
        crc = 0;
        member_size = 0;
        member_open = true;
    };
    auto close_member = [&] {
        put_le32(out, crc);
        put_le32(out, member_size);
        member_open = false;
    };

    for (size_t i = 0; i < pieces.size(); ++i) {
        const GzipPiece& piece = pieces[i];
        const unsigned char* data = in.data() + piece.offset;
        if (!member_open) open_member();
        crc = libdeflate_crc32(crc, data, piece.size);
        member_size += static_cast<uint32_t>(piece.size);
        if (piece.level == 0) {
            put_stored(out, data, piece.size, i + 1 == pieces.size());
            if (i + 1 == pieces.size()) close_member();
            continue;
        }
        libdeflate_compressor* c = compressor_for(piece.level);
        size_t at = out.size();
        out.resize(at + libdeflate_deflate_compress_bound(c, piece.size));
        size_t n =
            libdeflate_deflate_compress(c, data, piece.size, out.data() + at, out.size() - at);
        if (n == 0) throw Error("gzip compression failed");
        out.resize(at + n);
        close_member();
    }
    if (pieces.empty()) {  // no bytes: one empty member
        open_member();
        put_stored(out, nullptr, 0, true);
        close_member();
    }
}

}  // namespace d2a
