#include "codec/gzip_block.hpp"

#include <libdeflate.h>

#include <array>
#include <cmath>
#include <cstring>
#include <optional>
#include <string>

#include "codec/deflate_constants.hpp"
#include "codec/deflate_walk.hpp"
#include "util/error.hpp"

namespace d2a {

namespace {

// Above this many bits per byte a chunk is stored: deflate would spend ~8 ns a byte to
// gain under 1.5%, on bytes that are usually compressed already (jars, images, archives).
constexpr double kStoredEntropy = 7.9;
// A block whose bytes average above this is mostly random runs (stored): its text is a
// small share of the output, so it gets libdeflate's level 1, a greedy matcher about three
// times as fast as level 4 whose larger output costs under 1% of the whole (bench image A,
// half random: 102.5% of gzip -6 instead of 101.7%, in 1.26 s instead of 1.46 s).
constexpr double kPoorEntropy = 6.5;
constexpr int kPoorBlockMaxLevel = 1;

using Histogram = std::array<uint32_t, 256>;

// Counts a sample of a chunk's bytes into `h`: the first 8 of every 16 (and all of a tail
// shorter than 16); returns how many. Counting is most of what planning costs, and the
// estimate needs a sample, not every byte (Brotli's compressibility test samples too).
// Four tables, so that runs of one byte value do not serialise on a single counter.
size_t count_sample(const unsigned char* p, size_t n, Histogram& h) {
    uint16_t t[4][256] = {};  // a chunk has at most kEntropyChunk bytes: no overflow
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        ++t[0][p[i]];
        ++t[1][p[i + 1]];
        ++t[2][p[i + 2]];
        ++t[3][p[i + 3]];
        ++t[0][p[i + 4]];
        ++t[1][p[i + 5]];
        ++t[2][p[i + 6]];
        ++t[3][p[i + 7]];
    }
    const size_t counted = i / 2 + (n - i);
    for (; i < n; ++i) ++t[0][p[i]];
    for (int b = 0; b < 256; ++b) {
        h[b] = static_cast<uint32_t>(t[0][b]) + t[1][b] + t[2][b] + t[3][b];
    }
    return counted;
}

// c * log2(c) for every count a chunk's sample can hold (0 for 0).
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
    // Without branches on zero counts (text leaves most of the 256 empty, at random), in
    // four sums that do not wait on each other.
    double sums[4] = {};
    int distinct = 0;
    for (int b = 0; b < 256; b += 4) {
        for (int k = 0; k < 4; ++k) {
            const uint32_t c = h[b + k];
            distinct += c != 0;
            sums[k] += c <= kEntropyChunk
                           ? table[c]
                           : static_cast<double>(c) * std::log2(static_cast<double>(c));
        }
    }
    const double sum = (sums[0] + sums[1]) + (sums[2] + sums[3]);
    const double total = static_cast<double>(n);
    double plain = std::log2(total) - sum / total;
    return plain + (distinct - 1) / (2.0 * total * std::log(2.0));
}

// Crowded: at least this many times as many distinct 8-byte strings as 4-byte ones in
// kCrowdedSample bytes. Bench image C's text (a 60-word vocabulary) has 4.6; most blocks
// of a Debian system's binaries, headers, scripts and documentation 1.0 to 2.3; some of
// its Perl, locale and zoneinfo data is above 3 too, and loses nothing one level up.
constexpr double kCrowdedRatio = 3.0;

// How many distinct values were hashed into a bitmap of 2^16 bits, by linear counting.
double distinct_estimate(const std::array<uint64_t, 1024>& bitmap) {
    size_t set = 0;
    for (uint64_t word : bitmap) set += static_cast<size_t>(__builtin_popcountll(word));
    const double m = 65536.0;
    const double empty = std::max(m - static_cast<double>(set), 1.0);
    return m * std::log(m / empty);
}

void put_le32(std::vector<unsigned char>& out, uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<unsigned char>(v >> (8 * i)));
}

// RFC 1951 stored blocks (byte aligned, at most 65535 bytes each), none final.
void put_stored(std::vector<unsigned char>& out, const unsigned char* p, size_t n) {
    do {
        size_t k = std::min<size_t>(n, deflate::kMaxStoredLength);
        out.push_back(0);
        out.push_back(static_cast<unsigned char>(k));
        out.push_back(static_cast<unsigned char>(k >> 8));
        out.push_back(static_cast<unsigned char>(~k));
        out.push_back(static_cast<unsigned char>(~k >> 8));
        out.insert(out.end(), p, p + k);
        p += k;
        n -= k;
    } while (n > 0);
}

// libdeflate ends every stream with a final block and has no flush. To join its streams
// into one, as pigz does with zlib's Z_SYNC_FLUSH: find the last block (single_block_layout
// for a piece that is one block, else walk_deflate), clear its final bit, and end on a
// byte boundary with an empty stored block (00 00 ff ff after a 3-bit header).
void make_joinable(std::vector<unsigned char>& out, size_t start) {
    const std::span<const unsigned char> stream{out.data() + start, out.size() - start};
    // Most pieces between random files are one block: their end is read off their last
    // bytes, and the walk (a tenth of a pull's CPU time on bench image A) is skipped.
    const std::optional<DeflateLayout> single = single_block_layout(stream);
    const DeflateLayout layout = single ? *single : walk_deflate(stream);
    if ((layout.end_bit + 7) / 8 != out.size() - start)
        throw Error("gzip: data after the deflate stream");
    out[start + layout.last_block_bit / 8] &=
        static_cast<unsigned char>(~(1u << (layout.last_block_bit % 8)));
    // The unused bits of the last byte are zero: they begin the stored block's header
    // (BFINAL 0, BTYPE 00) when there are three of them; else a zero byte holds the rest.
    const unsigned unused_bits = static_cast<unsigned>((8 - layout.end_bit % 8) % 8);
    if (unused_bits < 3) out.push_back(0);
    out.insert(out.end(), deflate::kEmptyStoredBody.begin(), deflate::kEmptyStoredBody.end());
}

// Random-looking bytes that repeat within the deflate window (a key or an icon stored
// twice, copies of one small compressed file side by side, a page written again) are
// matched by any deflate, however random each copy looks: such a chunk is not stored.
// Every kRepeatStride-th position of the block goes into a small direct-mapped table of
// 8-byte strings as the chunks go by; a random chunk probes kRepeatStride consecutive
// positions at two places, so that whatever the period, one probe is aligned with a
// position in the table. That is 128 inserts and 32 lookups per 2 KiB chunk, nothing next
// to counting its bytes: random data that does not repeat is planned as fast as before.
class RepeatProbe {
  public:
    explicit RepeatProbe(std::span<const unsigned char> block) : block_(block) {}

    // Remembers the sampled positions of [from, to).
    void add(size_t from, size_t to) {
        for (size_t pos = (from + kRepeatStride - 1) / kRepeatStride * kRepeatStride;
             pos + kRepeatBytes <= to; pos += kRepeatStride) {
            slots_[slot(pos)] = static_cast<uint32_t>(pos + 1);
        }
    }

    // Where the bytes of a chunk starting at `at` were seen before, within the window: the
    // earliest position any probe matched; nothing when none did.
    std::optional<size_t> earlier_copy(size_t at, size_t n) const {
        std::optional<size_t> found;
        for (size_t probe : {size_t{0}, n / 2}) {
            for (size_t k = 0; k < kRepeatStride; ++k) {
                const size_t pos = at + probe + k;
                if (pos + kRepeatBytes > at + n) break;
                const uint32_t entry = slots_[slot(pos)];
                if (entry == 0) continue;
                const size_t seen = entry - 1;
                if (seen >= pos || pos - seen >= deflate::kWindow) continue;
                if (std::memcmp(block_.data() + seen, block_.data() + pos, kRepeatBytes) != 0)
                    continue;
                // The copy of the chunk's start, for the chunks in between to join it.
                const size_t start = seen >= probe + k ? seen - probe - k : 0;
                found = found ? std::min(*found, start) : start;
            }
        }
        return found;
    }

  private:
    static constexpr size_t kRepeatStride = 16;
    static constexpr size_t kRepeatBytes = 16;  // compared; 8 hashed
    static constexpr size_t kSlots = 1 << 13;   // 4 per sampled position of a window

    size_t slot(size_t pos) const {
        uint64_t v;
        std::memcpy(&v, block_.data() + pos, sizeof v);
        return static_cast<size_t>((v * 0x9E3779B97F4A7C15ull) >> 51);
    }

    std::span<const unsigned char> block_;
    std::vector<uint32_t> slots_ = std::vector<uint32_t>(kSlots, 0);
};

}  // namespace

std::vector<GzipPiece> plan_gzip_block(std::span<const unsigned char> block, int level) {
    std::vector<bool> random_chunk;
    random_chunk.reserve(block.size() / kEntropyChunk + 1);
    Histogram whole{};
    size_t sampled = 0;
    RepeatProbe repeats(block);
    for (size_t off = 0; off < block.size(); off += kEntropyChunk) {
        size_t n = std::min(kEntropyChunk, block.size() - off);
        Histogram h;
        const size_t counted = count_sample(block.data() + off, n, h);
        for (int b = 0; b < 256; ++b) whole[b] += h[b];
        sampled += counted;
        bool random = entropy(h, counted) > kStoredEntropy;
        if (random) {
            if (std::optional<size_t> copy = repeats.earlier_copy(off, n)) {
                // Deflated, and the chunks back to the first copy with it: one piece, so
                // that its matches reach the copy.
                random = false;
                for (size_t j = *copy / kEntropyChunk; j < random_chunk.size(); ++j)
                    random_chunk[j] = false;
            }
        }
        random_chunk.push_back(random);
        repeats.add(off, off + n);
    }
    const int deflate_level =
        entropy(whole, sampled) > kPoorEntropy ? std::min(level, kPoorBlockMaxLevel) : level;

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
    for (GzipPiece& piece : pieces) {
        // Judged on the end of the piece's first kCrowdedMinBytes: a piece starts where
        // chunks stop looking random, often with the tail of a compressed file and a tar
        // header, whose distinct strings would hide the vocabulary's.
        piece.crowded = piece.level == kCrowdedTextLevel && piece.size >= kCrowdedMinBytes &&
                        crowded_prefixes(block.subspan(
                            piece.offset + kCrowdedMinBytes - kCrowdedSample, kCrowdedSample));
        if (piece.crowded) piece.level = kCrowdedTextLevelUp;
    }
    return pieces;
}

bool crowded_prefixes(std::span<const unsigned char> text) {
    if (text.size() < kCrowdedSample) return false;
    std::array<uint64_t, 1024> strings4{}, strings8{};
    for (size_t i = 0; i + 8 <= kCrowdedSample; ++i) {
        uint32_t v4;
        uint64_t v8;
        std::memcpy(&v4, text.data() + i, sizeof v4);
        std::memcpy(&v8, text.data() + i, sizeof v8);
        const uint32_t h4 = (v4 * 2654435761u) >> 16;
        const uint32_t h8 = static_cast<uint32_t>((v8 * 0x9E3779B97F4A7C15ull) >> 48);
        strings4[h4 >> 6] |= 1ull << (h4 & 63);
        strings8[h8 >> 6] |= 1ull << (h8 & 63);
    }
    return distinct_estimate(strings8) >= kCrowdedRatio * distinct_estimate(strings4);
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

uint32_t GzipBlockEncoder::encode(std::span<const unsigned char> in,
                                  std::vector<unsigned char>& out) {
    out.clear();
    out.reserve(in.size() + in.size() / 64 + 64);
    for (const GzipPiece& piece : plan_gzip_block(in, level_)) {
        const unsigned char* data = in.data() + piece.offset;
        if (piece.level == 0) {
            put_stored(out, data, piece.size);
            continue;
        }
        deflate_with_libdeflate({data, piece.size}, piece.level, out);
    }
    return libdeflate_crc32(0, in.data(), in.size());
}

void GzipBlockEncoder::deflate_with_libdeflate(std::span<const unsigned char> piece, int level,
                                               std::vector<unsigned char>& out) {
    libdeflate_compressor* c = compressor_for(level);
    const size_t at = out.size();
    out.resize(at + libdeflate_deflate_compress_bound(c, piece.size()));
    const size_t n = libdeflate_deflate_compress(c, piece.data(), piece.size(), out.data() + at,
                                                 out.size() - at);
    if (n == 0) throw Error("gzip compression failed");
    out.resize(at + n);
    make_joinable(out, at);
}

void put_gzip_header(std::vector<unsigned char>& out) {
    static constexpr unsigned char kHeader[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};
    out.insert(out.end(), kHeader, kHeader + sizeof kHeader);
}

void put_gzip_end(std::vector<unsigned char>& out, uint32_t crc, uint64_t size) {
    // An empty final block (fixed Huffman codes, only the end-of-block code), as zlib
    // writes for Z_FINISH with no input left.
    out.push_back(0x03);
    out.push_back(0x00);
    put_le32(out, crc);
    put_le32(out, static_cast<uint32_t>(size));
}

}  // namespace d2a
