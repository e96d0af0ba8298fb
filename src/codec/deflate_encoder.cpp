#include "codec/deflate_encoder.hpp"

#include <algorithm>
#include <cstring>

#include "codec/deflate_constants.hpp"

namespace d2a {

namespace {

constexpr uint32_t kWindow = deflate::kWindow;
// The largest distance used: one less than deflate allows, so that a chain entry is never
// the slot of the position being inserted (positions a window apart share a slot).
constexpr uint32_t kMaxDistance = kWindow - 1;
// A 3-byte match pays only when near (zlib drops them beyond 4096 too).
constexpr uint32_t kMaxDistance3 = 4096;
constexpr uint32_t kMaxMatch = deflate::kMaxMatch;
// Hashing reads 8 bytes: the last 7 of a piece are literals (or the tail of a match).
constexpr size_t kHashBytes = 8;
constexpr unsigned kHash3Bits = 14;
constexpr unsigned kHash4Bits = 15;
constexpr unsigned kHash8Bits = 16;
// Search effort (measured on bench image C's text, where these come within 3% of zlib
// -6's size at 4 times its speed): candidates per chain, the length that ends a search, and the
// length from which the next position is not tried (zlib's max_lazy).
constexpr int kLongChainDepth = 16;
constexpr int kShortChainDepth = 8;
constexpr uint32_t kNiceLength = 128;
constexpr uint32_t kLazyLength = 32;
// Symbols per block: enough to pay for a dynamic header many times over, few enough for
// the codes to follow the data.
constexpr size_t kBlockSymbols = 1 << 15;
using deflate::kEndOfBlock;

uint32_t load32(const unsigned char* p) {
    uint32_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

uint64_t load64(const unsigned char* p) {
    uint64_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

uint32_t hash3(const unsigned char* p) {
    return ((load32(p) & 0xffffffu) * 2654435761u) >> (32 - kHash3Bits);
}

uint32_t hash4(const unsigned char* p) {
    return (load32(p) * 2654435761u) >> (32 - kHash4Bits);
}

uint32_t hash8(const unsigned char* p) {
    return static_cast<uint32_t>((load64(p) * 0x9E3779B97F4A7C15ull) >> (64 - kHash8Bits));
}

// How many bytes p and q have in common, up to `limit`.
uint32_t common_length(const unsigned char* p, const unsigned char* q, uint32_t limit) {
    uint32_t n = 0;
    while (n + 8 <= limit) {
        const uint64_t diff = load64(p + n) ^ load64(q + n);
        if (diff != 0) return n + static_cast<uint32_t>(__builtin_ctzll(diff) / 8);
        n += 8;
    }
    while (n < limit && p[n] == q[n]) ++n;
    return n;
}

using deflate::kCodeLengthOrder;
using deflate::kDistanceBase;
using deflate::kDistanceExtra;
using deflate::kLengthBase;
using deflate::kLengthExtra;

struct CodeTables {
    std::array<uint8_t, kMaxMatch + 1> length_code{};  // code index (0-28) of each length
    // Distance code of d: distance_code[d - 1] for d <= 256, else [256 + ((d - 1) >> 7)].
    std::array<uint8_t, 512> distance_code{};
};

constexpr CodeTables make_code_tables() {
    CodeTables t;
    for (unsigned code = 0; code < 29; ++code) {
        const unsigned end = code == 28 ? kMaxMatch + 1 : kLengthBase[code + 1];
        for (unsigned len = kLengthBase[code]; len < end; ++len)
            t.length_code[len] = static_cast<uint8_t>(code);
    }
    for (unsigned code = 0; code < 30; ++code) {
        const unsigned first = kDistanceBase[code];
        const unsigned last = first + (1u << kDistanceExtra[code]) - 1;
        for (unsigned d = first; d <= last; ++d) {
            if (d <= 256)
                t.distance_code[d - 1] = static_cast<uint8_t>(code);
            else
                t.distance_code[256 + ((d - 1) >> 7)] = static_cast<uint8_t>(code);
        }
    }
    return t;
}

constexpr CodeTables kCodes = make_code_tables();

unsigned distance_code(uint32_t d) {
    return d <= 256 ? kCodes.distance_code[d - 1] : kCodes.distance_code[256 + ((d - 1) >> 7)];
}

// Canonical codes (RFC 1951 3.2.2), bit-reversed for writing least significant bit first.
std::vector<uint16_t> canonical_codes(std::span<const uint8_t> lengths) {
    std::array<uint16_t, 16> count{}, next{};
    for (uint8_t len : lengths) ++count[len];
    count[0] = 0;
    unsigned code = 0;
    for (unsigned len = 1; len < 16; ++len) {
        code = (code + count[len - 1]) << 1;
        next[len] = static_cast<uint16_t>(code);
    }
    std::vector<uint16_t> codes(lengths.size());
    for (size_t s = 0; s < lengths.size(); ++s) {
        const unsigned len = lengths[s];
        if (!len) continue;
        unsigned c = next[len]++, reversed = 0;
        for (unsigned b = 0; b < len; ++b) reversed |= ((c >> b) & 1u) << (len - 1 - b);
        codes[s] = static_cast<uint16_t>(reversed);
    }
    return codes;
}

// The code lengths of a dynamic block's two codes, run-length coded with symbols 16-18.
struct CodeLengthRun {
    uint8_t symbol;
    uint8_t extra;  // the value of the symbol's extra bits
};

std::vector<CodeLengthRun> run_length_code(const std::vector<uint8_t>& lengths) {
    std::vector<CodeLengthRun> runs;
    for (size_t i = 0; i < lengths.size();) {
        const uint8_t value = lengths[i];
        size_t run = 1;
        while (i + run < lengths.size() && lengths[i + run] == value) ++run;
        i += run;
        if (value == 0) {
            while (run >= 11) {
                const size_t n = std::min<size_t>(run, 138);
                runs.push_back({18, static_cast<uint8_t>(n - 11)});
                run -= n;
            }
            if (run >= 3) {
                runs.push_back({17, static_cast<uint8_t>(run - 3)});
                run = 0;
            }
        } else {
            runs.push_back({value, 0});
            --run;
            while (run >= 3) {
                const size_t n = std::min<size_t>(run, 6);
                runs.push_back({16, static_cast<uint8_t>(n - 3)});
                run -= n;
            }
        }
        for (; run > 0; --run) runs.push_back({value, 0});
    }
    return runs;
}

constexpr unsigned code_length_extra_bits(unsigned symbol) {
    return symbol == 16 ? 2 : symbol == 17 ? 3 : symbol == 18 ? 7 : 0;
}

struct FixedCodes {
    std::array<uint8_t, 288> literal_length_lengths{};
    std::array<uint8_t, 30> distance_lengths{};
};

constexpr FixedCodes make_fixed_codes() {
    FixedCodes f;
    for (unsigned s = 0; s < 288; ++s) {
        f.literal_length_lengths[s] = deflate::fixed_literal_length_bits(s);
    }
    for (auto& len : f.distance_lengths) len = deflate::kFixedDistanceBits;
    return f;
}

constexpr FixedCodes kFixed = make_fixed_codes();

}  // namespace

std::vector<uint8_t> limited_code_lengths(std::span<const uint32_t> counts_in, unsigned limit) {
    const size_t n = counts_in.size();
    std::vector<uint32_t> counts(counts_in.begin(), counts_in.end());
    std::vector<uint8_t> lengths(n);
    std::vector<uint16_t> symbols;
    for (size_t s = 0; s < n; ++s) {
        if (counts[s]) symbols.push_back(static_cast<uint16_t>(s));
    }
    // A code of one symbol (or none) is written as two codes of length 1, a complete code
    // that every inflater takes.
    for (size_t s = 0; s < n && symbols.size() < 2; ++s) {
        if (!counts[s]) {
            counts[s] = 1;
            symbols.push_back(static_cast<uint16_t>(s));
        }
    }
    const size_t used = symbols.size();
    if (used < 2) return lengths;  // fewer than two symbols in the alphabet: nothing to code
    // Ascending by count, ties by symbol, so that the result does not depend on the sort.
    std::sort(symbols.begin(), symbols.end(), [&](uint16_t a, uint16_t b) {
        return counts[a] != counts[b] ? counts[a] < counts[b] : a < b;
    });
    // Huffman's tree with two queues: the leaves in that order, and the inner nodes, made
    // in order of non-decreasing weight. Nodes 0..used-1 are the leaves.
    std::vector<uint64_t> weight(2 * used);
    std::vector<uint32_t> parent(2 * used);
    for (size_t i = 0; i < used; ++i) weight[i] = counts[symbols[i]];
    size_t next_leaf = 0, next_inner = used;
    auto take = [&](size_t made) {
        if (next_leaf < used && (next_inner >= made || weight[next_leaf] <= weight[next_inner]))
            return next_leaf++;
        return next_inner++;
    };
    for (size_t made = used; made < 2 * used - 1; ++made) {
        const size_t a = take(made);
        const size_t b = take(made);
        weight[made] = weight[a] + weight[b];
        parent[a] = parent[b] = static_cast<uint32_t>(made);
    }
    std::vector<uint32_t> depth(2 * used);
    std::vector<uint32_t> per_length(limit + 1);
    for (size_t node = 2 * used - 2; node-- > 0;) {
        depth[node] = depth[parent[node]] + 1;
        if (node < used) ++per_length[std::min(depth[node], limit)];
    }
    // Lengths clamped to the limit oversubscribe the code: take a leaf off the longest
    // length and split a shorter leaf into two one level down, until the Kraft sum (in
    // units of 2^-limit) is back to one whole; each step lowers it by one unit.
    uint64_t kraft = 0;
    for (unsigned len = 1; len <= limit; ++len) kraft += uint64_t{per_length[len]} << (limit - len);
    while (kraft > (uint64_t{1} << limit)) {
        --per_length[limit];
        for (unsigned len = limit - 1; len > 0; --len) {
            if (per_length[len]) {
                --per_length[len];
                per_length[len + 1] += 2;
                break;
            }
        }
        --kraft;
    }
    // The rarest symbols get the longest codes.
    size_t i = 0;
    for (unsigned len = limit; len > 0; --len) {
        for (uint32_t k = 0; k < per_length[len]; ++k)
            lengths[symbols[i++]] = static_cast<uint8_t>(len);
    }
    return lengths;
}

DeflateEncoder::DeflateEncoder()
    : next_position_(kWindow * 2),
      head3_(1u << kHash3Bits),
      head4_(1u << kHash4Bits),
      head8_(1u << kHash8Bits),
      previous4_(kWindow),
      previous8_(kWindow) {
    symbols_.reserve(kBlockSymbols);
}

void DeflateEncoder::insert(const unsigned char* in, size_t at, uint32_t position) {
    const unsigned char* p = in + at;
    head3_[hash3(p)] = position;
    uint32_t& head4 = head4_[hash4(p)];
    previous4_[position % kWindow] = head4;
    head4 = position;
    uint32_t& head8 = head8_[hash8(p)];
    previous8_[position % kWindow] = head8;
    head8 = position;
}

DeflateEncoder::Match DeflateEncoder::find_match(const unsigned char* in, size_t at, size_t size,
                                                 uint32_t position) const {
    const unsigned char* p = in + at;
    const uint32_t limit = static_cast<uint32_t>(std::min<size_t>(kMaxMatch, size - at));
    const uint32_t nice = std::min(kNiceLength, limit);
    Match best{3, 0};  // the chains look for 4 bytes or more
    auto search = [&](uint32_t candidate, const std::vector<uint32_t>& previous, int depth) {
        for (; depth > 0; --depth) {
            const uint32_t distance = position - candidate;
            if (distance - 1 >= kMaxDistance) return;  // too far, or stale
            const unsigned char* q = p - distance;
            if (q[best.length] == p[best.length] && load32(q) == load32(p)) {
                const uint32_t length = common_length(p, q, limit);
                if (length > best.length) {
                    best = {length, distance};
                    if (length >= nice) return;
                }
            }
            candidate = previous[candidate % kWindow];
        }
    };
    search(head8_[hash8(p)], previous8_, kLongChainDepth);
    // A match of 8 or more bytes shares the 8-byte hash: only shorter ones remain to find.
    if (best.length < kHashBytes) search(head4_[hash4(p)], previous4_, kShortChainDepth);
    if (best.distance == 0) {
        const uint32_t distance = position - head3_[hash3(p)];
        if (distance - 1 < kMaxDistance3 && common_length(p, p - distance, 3) == 3)
            return {3, distance};
        return {};
    }
    return best;
}

void DeflateEncoder::record_literal(unsigned char byte) {
    symbols_.push_back(static_cast<uint32_t>(byte) << 16);
    ++literal_length_counts_[byte];
}

void DeflateEncoder::record_match(Match m) {
    symbols_.push_back(m.length << 16 | m.distance);
    ++literal_length_counts_[257 + kCodes.length_code[m.length]];
    ++distance_counts_[distance_code(m.distance)];
}

void DeflateEncoder::encode(std::span<const unsigned char> input, std::vector<unsigned char>& out) {
    const unsigned char* in = input.data();
    const size_t size = input.size();
    // Keep positions (and their differences) within 32 bits: start over well before.
    if (next_position_ > 0xC0000000u - std::min<size_t>(size, 0x40000000u)) {
        std::fill(head3_.begin(), head3_.end(), 0);
        std::fill(head4_.begin(), head4_.end(), 0);
        std::fill(head8_.begin(), head8_.end(), 0);
        next_position_ = kWindow * 2;
    }
    const uint32_t base = next_position_;
    next_position_ += static_cast<uint32_t>(size) + kWindow * 2;

    // Room for every block stored, with headers, and the closing empty block.
    const size_t start = out.size();
    out.resize(start + size + 5 * (size / kBlockSymbols + size / 65535 + 2) + 16);
    unsigned char* dst = out.data() + start;
    bit_buffer_ = 0;
    bit_count_ = 0;
    symbols_.clear();
    literal_length_counts_.fill(0);
    distance_counts_.fill(0);

    const size_t hashable_end = size >= kHashBytes ? size - kHashBytes + 1 : 0;
    size_t block_begin = 0;
    size_t inserted = 0;  // positions below this are in the tables
    size_t at = 0;
    auto insert_up_to = [&](size_t end) {
        end = std::min(end, hashable_end);
        for (; inserted < end; ++inserted)
            insert(in, inserted, base + static_cast<uint32_t>(inserted));
    };
    while (at < size) {
        if (symbols_.size() >= kBlockSymbols - 1) {
            write_block(in, block_begin, at, dst);
            block_begin = at;
        }
        if (at >= hashable_end) {
            record_literal(in[at++]);
            continue;
        }
        Match match = find_match(in, at, size, base + static_cast<uint32_t>(at));
        insert_up_to(at + 1);
        if (match.length == 0) {
            record_literal(in[at++]);
            continue;
        }
        // zlib's lazy evaluation: a longer match at the next byte wins over this one.
        while (match.length < kLazyLength && at + 1 < hashable_end) {
            const Match next = find_match(in, at + 1, size, base + static_cast<uint32_t>(at + 1));
            insert_up_to(at + 2);
            if (next.length <= match.length) break;
            record_literal(in[at++]);
            match = next;
            if (symbols_.size() >= kBlockSymbols - 1) break;
        }
        record_match(match);
        at += match.length;
        insert_up_to(at);
    }
    if (!symbols_.empty()) write_block(in, block_begin, size, dst);

    // An empty stored block, not final: its 3-bit header, then zeros to the byte boundary,
    // then LEN 0 and NLEN 0xffff.
    bit_count_ += 3;
    while (bit_count_ > 0) {
        *dst++ = static_cast<unsigned char>(bit_buffer_);
        bit_buffer_ >>= 8;
        bit_count_ = bit_count_ > 8 ? bit_count_ - 8 : 0;
    }
    std::memcpy(dst, deflate::kEmptyStoredBody.data(), deflate::kEmptyStoredBody.size());
    dst += 4;
    out.resize(static_cast<size_t>(dst - out.data()));
}

void DeflateEncoder::write_block(const unsigned char* in, size_t begin, size_t end,
                                 unsigned char*& dst) {
    auto put = [&](uint32_t bits, unsigned count) {
        bit_buffer_ |= static_cast<uint64_t>(bits) << bit_count_;
        bit_count_ += count;
        if (bit_count_ >= 32) {
            // Least significant byte first whatever the host's byte order (compilers make
            // this one store where the host is little-endian).
            for (int i = 0; i < 4; ++i) *dst++ = static_cast<unsigned char>(bit_buffer_ >> (8 * i));
            bit_buffer_ >>= 32;
            bit_count_ -= 32;
        }
    };

    ++literal_length_counts_[kEndOfBlock];
    const std::vector<uint8_t> ll_lengths = limited_code_lengths(literal_length_counts_, 15);
    const std::vector<uint8_t> d_lengths = limited_code_lengths(distance_counts_, 15);

    unsigned literal_lengths_sent = 286, distances_sent = 30;
    while (literal_lengths_sent > 257 && !ll_lengths[literal_lengths_sent - 1])
        --literal_lengths_sent;
    while (distances_sent > 1 && !d_lengths[distances_sent - 1]) --distances_sent;
    std::vector<uint8_t> all_lengths(ll_lengths.begin(), ll_lengths.begin() + literal_lengths_sent);
    all_lengths.insert(all_lengths.end(), d_lengths.begin(), d_lengths.begin() + distances_sent);
    const std::vector<CodeLengthRun> runs = run_length_code(all_lengths);
    std::array<uint32_t, 19> cl_counts{};
    for (const CodeLengthRun& r : runs) ++cl_counts[r.symbol];
    const std::vector<uint8_t> cl_lengths = limited_code_lengths(cl_counts, 7);
    unsigned cl_sent = 19;
    while (cl_sent > 4 && !cl_lengths[kCodeLengthOrder[cl_sent - 1]]) --cl_sent;

    // Sizes in bits of the three ways to write the block.
    uint64_t extra_bits = 0;
    for (unsigned c = 0; c < 29; ++c)
        extra_bits += uint64_t{literal_length_counts_[257 + c]} * kLengthExtra[c];
    for (unsigned c = 0; c < 30; ++c)
        extra_bits += uint64_t{distance_counts_[c]} * kDistanceExtra[c];
    uint64_t dynamic_bits = 3 + 5 + 5 + 4 + 3ull * cl_sent + extra_bits;
    for (const CodeLengthRun& r : runs)
        dynamic_bits += cl_lengths[r.symbol] + code_length_extra_bits(r.symbol);
    uint64_t fixed_bits = 3 + extra_bits;
    for (unsigned s = 0; s < 286; ++s) {
        dynamic_bits += uint64_t{literal_length_counts_[s]} * ll_lengths[s];
        fixed_bits += uint64_t{literal_length_counts_[s]} * kFixed.literal_length_lengths[s];
    }
    for (unsigned s = 0; s < 30; ++s) {
        dynamic_bits += uint64_t{distance_counts_[s]} * d_lengths[s];
        fixed_bits += uint64_t{distance_counts_[s]} * kFixed.distance_lengths[s];
    }
    const uint64_t stored_bytes = end - begin;
    const uint64_t stored_bits =
        (3 + 7 + 32) * ((stored_bytes + 65534) / 65535 + (stored_bytes == 0)) + 8 * stored_bytes;

    if (stored_bits < dynamic_bits && stored_bits < fixed_bits) {
        size_t at = begin;
        do {
            const size_t n = std::min<size_t>(end - at, deflate::kMaxStoredLength);
            put(0, 3);  // BFINAL 0, BTYPE 00
            if (bit_count_ % 8) put(0, 8 - bit_count_ % 8);
            put(static_cast<uint32_t>(n | (~n & 0xffff) << 16), 32);
            while (bit_count_ > 0) {  // byte aligned: drain the buffer before copying
                *dst++ = static_cast<unsigned char>(bit_buffer_);
                bit_buffer_ >>= 8;
                bit_count_ -= 8;
            }
            std::memcpy(dst, in + at, n);
            dst += n;
            at += n;
        } while (at < end);
    } else {
        const bool fixed = fixed_bits <= dynamic_bits;
        std::vector<uint8_t> ll_len, dist_len;
        if (fixed) {
            ll_len.assign(kFixed.literal_length_lengths.begin(),
                          kFixed.literal_length_lengths.end());
            dist_len.assign(kFixed.distance_lengths.begin(), kFixed.distance_lengths.end());
            put(0b010, 3);  // BFINAL 0, BTYPE 01
        } else {
            ll_len = ll_lengths;
            dist_len = d_lengths;
            put(0b100, 3);  // BFINAL 0, BTYPE 10
            put(literal_lengths_sent - 257, 5);
            put(distances_sent - 1, 5);
            put(cl_sent - 4, 4);
            for (unsigned i = 0; i < cl_sent; ++i) put(cl_lengths[kCodeLengthOrder[i]], 3);
            const auto cl_codes = canonical_codes(cl_lengths);
            for (const CodeLengthRun& r : runs) {
                put(cl_codes[r.symbol], cl_lengths[r.symbol]);
                if (const unsigned extra = code_length_extra_bits(r.symbol)) put(r.extra, extra);
            }
        }
        const auto ll_codes = canonical_codes(ll_len);
        const auto dist_codes = canonical_codes(dist_len);
        for (const uint32_t symbol : symbols_) {
            const uint32_t value = symbol >> 16;
            const uint32_t distance = symbol & 0xffff;
            if (distance == 0) {
                put(ll_codes[value], ll_len[value]);
                continue;
            }
            const unsigned lc = kCodes.length_code[value];
            put(ll_codes[257 + lc], ll_len[257 + lc]);
            put(value - kLengthBase[lc], kLengthExtra[lc]);
            const unsigned dc = distance_code(distance);
            put(dist_codes[dc], dist_len[dc]);
            put(distance - kDistanceBase[dc], kDistanceExtra[dc]);
        }
        put(ll_codes[kEndOfBlock], ll_len[kEndOfBlock]);
    }
    symbols_.clear();
    literal_length_counts_.fill(0);
    distance_counts_.fill(0);
}

}  // namespace d2a
