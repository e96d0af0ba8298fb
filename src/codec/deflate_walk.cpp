#include "codec/deflate_walk.hpp"

#include <endian.h>

#include <array>
#include <cstring>
#include <vector>

#include "codec/deflate_constants.hpp"
#include "util/error.hpp"

namespace d2a {

namespace {

using deflate::kDistanceExtra;
using deflate::kLengthExtra;
using deflate::kMaxBits;

[[noreturn]] void malformed(const char* what) {
    throw Error(std::string("gzip: malformed deflate stream (") + what + ")");
}

// LSB-first bits with a 64-bit buffer, refilled whole words at a time: a refill gives at
// least 56 bits, enough for a length code and a distance code with their extra bits.
class Bits {
  public:
    explicit Bits(std::span<const unsigned char> s)
        : start_(s.data()), p_(s.data()), end_(s.data() + s.size()) {}

    void refill() {
        if (end_ - p_ >= 8) {
            uint64_t word;
            std::memcpy(&word, p_, 8);
            buf_ |= word << count_;
            p_ += (63 - count_) >> 3;
            count_ |= 56;
            return;
        }
        // Past the end the stream reads as zeros; overrun() tells if they were used. Zeros
        // may decode as literals for ever, so stop once the buffer cannot hold real bits.
        if (p_ >= end_ + 16) malformed("truncated block");
        while (count_ <= 56) {
            if (p_ < end_) buf_ |= static_cast<uint64_t>(*p_) << count_;
            ++p_;
            count_ += 8;
        }
    }
    // The next n bits; valid after a refill() that covers them.
    [[nodiscard]] uint64_t peek(unsigned n) const { return buf_ & ((uint64_t{1} << n) - 1); }
    void skip(unsigned n) {
        buf_ >>= n;
        count_ -= n;
    }
    // Makes the next n bits available to peek().
    void need(unsigned n) {
        if (count_ < n) refill();
    }
    uint64_t take(unsigned n) {
        if (count_ < n) refill();
        uint64_t v = peek(n);
        skip(n);
        return v;
    }
    void align() { skip(count_ & 7); }
    [[nodiscard]] uint64_t position() const {
        return static_cast<uint64_t>(p_ - start_) * 8 - count_;
    }
    [[nodiscard]] bool overrun() const {
        return position() > static_cast<uint64_t>(end_ - start_) * 8;
    }
    // Skips n whole bytes (stored data), from a byte boundary.
    void skip_bytes(uint64_t n) {
        uint64_t pos = position() / 8 + n;
        if (pos > static_cast<uint64_t>(end_ - start_)) malformed("truncated stored block");
        buf_ = 0;
        count_ = 0;
        p_ = start_ + pos;
    }

  private:
    const unsigned char* start_;
    const unsigned char* p_;
    const unsigned char* end_;
    uint64_t buf_ = 0;
    unsigned count_ = 0;
};

// What a code's symbol means to a walker that only skips: how many extra bits follow it
// (skipped unread), and whether it is a literal, a length (a distance code follows), the
// end of the block, or a distance.
enum class Kind : uint8_t { literal, length, distance, end, slow, bad };

struct Meaning {
    Kind kind;
    uint8_t extra_bits;
};

Meaning litlen_meaning(unsigned sym) {
    if (sym < 256) return {Kind::literal, 0};
    if (sym == deflate::kEndOfBlock) return {Kind::end, 0};
    if (sym - deflate::kFirstLengthSymbol < kLengthExtra.size())
        return {Kind::length, kLengthExtra[sym - deflate::kFirstLengthSymbol]};
    return {Kind::bad, 0};
}

Meaning distance_meaning(unsigned sym) {
    if (sym < kDistanceExtra.size()) return {Kind::distance, kDistanceExtra[sym]};
    return {Kind::bad, 0};
}

// `len` bits of `code` in the opposite order.
uint32_t reversed(uint32_t code, unsigned len) {
    static constexpr auto kByte = [] {
        std::array<uint8_t, 256> t{};
        for (unsigned i = 0; i < 256; ++i)
            for (unsigned b = 0; b < 8; ++b)
                t[i] |= static_cast<uint8_t>(((i >> b) & 1) << (7 - b));
        return t;
    }();
    const uint32_t sixteen =
        static_cast<uint32_t>(kByte[code & 0xff]) << 8 | kByte[(code >> 8) & 0xff];
    return sixteen >> (16 - len);
}

// A canonical Huffman code decoded bit by bit from the counts per length, as zlib's puff
// does: slow, for the code-length code and the rare long codes.
class CanonicalCode {
  public:
    void build(const uint8_t* lengths, size_t count) {
        count_.fill(0);
        for (size_t i = 0; i < count; ++i) ++count_[lengths[i]];
        count_[0] = 0;
        int left = 1;
        for (unsigned len = 1; len <= kMaxBits; ++len) {
            left = (left << 1) - count_[len];
            if (left < 0) malformed("over-subscribed code");
        }
        std::array<uint16_t, kMaxBits + 2> offset{};
        for (unsigned len = 1; len <= kMaxBits; ++len) offset[len + 1] = offset[len] + count_[len];
        symbols_.resize(count);
        for (size_t sym = 0; sym < count; ++sym)
            if (lengths[sym] != 0) symbols_[offset[lengths[sym]]++] = static_cast<uint16_t>(sym);
    }
    // The first code of each length (RFC 1951 3.2.2, step 2).
    [[nodiscard]] std::array<uint32_t, kMaxBits + 1> first_codes() const {
        std::array<uint32_t, kMaxBits + 1> next{};
        uint32_t code = 0;
        for (unsigned len = 1; len <= kMaxBits; ++len) {
            code = (code + count_[len - 1]) << 1;
            next[len] = code;
        }
        return next;
    }
    unsigned decode(Bits& bits) const {
        int code = 0, first = 0, index = 0;
        for (unsigned len = 1; len <= kMaxBits; ++len) {
            code |= static_cast<int>(bits.take(1));
            int n = count_[len];
            if (code - first < n) return symbols_[static_cast<size_t>(index + code - first)];
            index += n;
            first = (first + n) << 1;
            code <<= 1;
        }
        malformed("no such code");
    }

  private:
    std::array<uint16_t, kMaxBits + 1> count_{};
    std::vector<uint16_t> symbols_;
};

// A literal/length or distance code for skipping. Deflate sends codes most significant bit
// first, so a table indexed by the next kTableBits bits (the code reversed) gives, in one
// step, what a short code means and how many bits it takes with its extra bits (which are
// skipped unread). Longer codes go
// to the canonical decoder. libdeflate starts a new block every few kilobytes, and each
// needs its own table, so the table stays small.
template <unsigned kTableBits>
class Code {
  public:
    void build(const uint8_t* lengths, size_t count, Meaning (*meaning)(unsigned)) {
        meaning_ = meaning;
        canonical_.build(lengths, count);
        std::array<uint32_t, kMaxBits + 1> next = canonical_.first_codes();
        table_.fill(Step{});
        for (size_t sym = 0; sym < count; ++sym) {
            const unsigned len = lengths[sym];
            if (len == 0) continue;
            const uint32_t code = next[len]++;
            if (len > kTableBits) continue;
            const Meaning m = meaning(static_cast<unsigned>(sym));
            const Step step{m.kind, static_cast<uint8_t>(len + m.extra_bits)};
            for (uint32_t fill = reversed(code, len); fill < table_.size(); fill += 1u << len)
                table_[fill] = step;
        }
    }

    struct Step {
        Kind kind = Kind::slow;
        uint8_t bits = 0;  // the code's bits and its extra bits
    };

    // What the next bits hold if the table knows (else Kind::slow), after a refill.
    [[nodiscard]] Step lookup(const Bits& bits) const { return table_[bits.peek(kTableBits)]; }

    // Skips the next symbol (or two literals) with its extra bits, after a refill.
    Kind skip(Bits& bits) const {
        const Step step = table_[bits.peek(kTableBits)];
        if (step.kind != Kind::slow) {
            bits.skip(step.bits);
            return step.kind;
        }
        const Meaning m = meaning_(canonical_.decode(bits));
        bits.skip(m.extra_bits);
        return m.kind;
    }

  private:
    std::array<Step, 1u << kTableBits> table_{};
    CanonicalCode canonical_;
    Meaning (*meaning_)(unsigned) = nullptr;
};

// Table sizes: litlen codes from libdeflate are mostly under 10 bits; the 30 distance
// symbols mostly under 8. Larger tables cost more to build than they save, as blocks are
// small (a piece of text between two random files is often one block of a few kilobytes).
using LitlenCode = Code<10>;
using DistanceCode = Code<8>;

// The code-length code (RFC 1951 3.2.7): codes of 7 bits at most, so one lookup decodes a
// symbol (bit by bit, the headers of one-block pieces cost a fifth of reading their ends).
class CodeLengthCode {
  public:
    explicit CodeLengthCode(const uint8_t (&lengths)[deflate::kCodeLengthSymbols]) {
        CanonicalCode canonical;
        canonical.build(lengths, deflate::kCodeLengthSymbols);  // refuses an over-subscribed code
        std::array<uint32_t, kMaxBits + 1> next = canonical.first_codes();
        for (unsigned sym = 0; sym < deflate::kCodeLengthSymbols; ++sym) {
            const unsigned len = lengths[sym];
            if (len == 0) continue;
            for (uint32_t fill = reversed(next[len]++, len); fill < table_.size();
                 fill += 1u << len)
                table_[fill] = {static_cast<uint8_t>(sym), static_cast<uint8_t>(len)};
        }
    }
    unsigned decode(Bits& bits) const {
        bits.need(kBits);
        const Entry e = table_[bits.peek(kBits)];
        if (e.length == 0) malformed("no such code");
        bits.skip(e.length);
        return e.symbol;
    }

  private:
    static constexpr unsigned kBits = 7;
    struct Entry {
        uint8_t symbol = 0;
        uint8_t length = 0;  // 0: no code starts with these bits
    };
    std::array<Entry, 1u << kBits> table_{};
};

struct CodeLengths {
    unsigned hlit = 0;   // litlen code lengths, first in `lengths`
    unsigned hdist = 0;  // distance code lengths, after them
    uint8_t lengths[deflate::kLiteralLengthSymbols + 32] = {};
};

// A dynamic block's header after its first three bits: the code lengths of its two codes.
void read_code_lengths(Bits& bits, CodeLengths& codes) {
    uint8_t* const lengths = codes.lengths;
    const unsigned hlit = static_cast<unsigned>(bits.take(5)) + deflate::kFirstLengthSymbol;
    const unsigned hdist = static_cast<unsigned>(bits.take(5)) + 1;
    const unsigned hclen = static_cast<unsigned>(bits.take(4)) + 4;
    uint8_t cl_lengths[deflate::kCodeLengthSymbols] = {};
    for (unsigned i = 0; i < hclen; ++i)
        cl_lengths[deflate::kCodeLengthOrder[i]] = static_cast<uint8_t>(bits.take(3));
    const CodeLengthCode cl(cl_lengths);
    unsigned n = 0;
    while (n < hlit + hdist) {
        unsigned sym = cl.decode(bits);
        if (sym < 16) {
            lengths[n++] = static_cast<uint8_t>(sym);
            continue;
        }
        unsigned repeat;
        uint8_t value = 0;
        if (sym == 16) {
            if (n == 0) malformed("repeat with nothing before");
            value = lengths[n - 1];
            repeat = 3 + static_cast<unsigned>(bits.take(2));
        } else if (sym == 17) {
            repeat = 3 + static_cast<unsigned>(bits.take(3));
        } else {
            repeat = 11 + static_cast<unsigned>(bits.take(7));
        }
        if (n + repeat > hlit + hdist) malformed("code lengths overflow");
        while (repeat--) lengths[n++] = value;
        if (bits.overrun()) malformed("truncated header");
    }
    codes.hlit = hlit;
    codes.hdist = hdist;
}

void read_dynamic_codes(Bits& bits, LitlenCode& litlen, DistanceCode& dist) {
    CodeLengths codes;
    read_code_lengths(bits, codes);
    litlen.build(codes.lengths, codes.hlit, litlen_meaning);
    dist.build(codes.lengths + codes.hlit, codes.hdist, distance_meaning);
}

void skip_symbols(Bits& bits, const LitlenCode& litlen, const DistanceCode& dist) {
    // A refill holds at least 56 bits: a length code with its extra bits (20 at most) and
    // a distance code with its extra bits (28 at most) fit. Past the end the bits read as
    // zeros, which may well decode; the caller checks for that at the block's end, and
    // refill() stops a run of zeros that never ends.
    for (;;) {
        bits.refill();
        const auto step = litlen.lookup(bits);
        if (step.kind >= Kind::end) [[unlikely]] {  // once a block, or a long or bad code
            const Kind kind = litlen.skip(bits);
            if (kind == Kind::end) return;
            if (kind == Kind::literal) continue;
            if (kind != Kind::length) malformed("bad length symbol");
            if (dist.skip(bits) != Kind::distance) malformed("bad distance symbol");
            continue;
        }
        bits.skip(step.bits);
        // Whether a literal or a match came is a coin toss to the branch predictor, so
        // the distance is looked up either way and skipped only after a length.
        const auto distance = dist.lookup(bits);
        const bool is_length = step.kind == Kind::length;
        if (is_length & (distance.kind != Kind::distance)) [[unlikely]] {
            if (dist.skip(bits) != Kind::distance) malformed("bad distance symbol");
            continue;
        }
        bits.skip(is_length ? distance.bits : 0);
    }
}

const std::pair<LitlenCode, DistanceCode>& fixed_codes() {
    static const std::pair<LitlenCode, DistanceCode> codes = [] {
        std::pair<LitlenCode, DistanceCode> c;
        uint8_t lengths[deflate::kLiteralLengthSymbols];
        for (unsigned i = 0; i < deflate::kLiteralLengthSymbols; ++i)
            lengths[i] = deflate::fixed_literal_length_bits(i);
        c.first.build(lengths, deflate::kLiteralLengthSymbols, litlen_meaning);
        uint8_t dist[deflate::kDistanceSymbols];
        std::memset(dist, deflate::kFixedDistanceBits, sizeof dist);
        c.second.build(dist, deflate::kDistanceSymbols, distance_meaning);
        return c;
    }();
    return codes;
}

}  // namespace

DeflateLayout walk_deflate(std::span<const unsigned char> stream) {
    Bits bits(stream);
    LitlenCode litlen;
    DistanceCode dist;
    for (;;) {
        const uint64_t start = bits.position();
        const bool final_block = bits.take(1) != 0;
        const unsigned type = static_cast<unsigned>(bits.take(2));
        if (type == 0) {
            bits.align();
            uint64_t len = bits.take(16);
            uint64_t nlen = bits.take(16);
            if ((len ^ nlen) != 0xffff) malformed("stored length");
            bits.skip_bytes(len);
        } else if (type == 1) {
            skip_symbols(bits, fixed_codes().first, fixed_codes().second);
        } else if (type == 2) {
            read_dynamic_codes(bits, litlen, dist);
            skip_symbols(bits, litlen, dist);
        } else {
            malformed("reserved block type");
        }
        if (bits.overrun()) malformed("truncated");
        if (final_block) return {start, bits.position()};
    }
}

std::optional<DeflateLayout> single_block_layout(std::span<const unsigned char> stream) {
    // Long enough that the end-of-block code (15 bits at most) and the padding after it lie
    // in the last eight bytes, and those bytes come after the block's header.
    constexpr size_t kTailBytes = 8;
    if (stream.size() < 2 * kTailBytes || (stream[0] & 1) == 0) return std::nullopt;
    Bits bits(stream);
    bits.take(1);                                // BFINAL, set: the first block is the last
    if (bits.take(2) != 2) return std::nullopt;  // stored and fixed-code blocks: walk them
    CodeLengths codes;
    read_code_lengths(bits, codes);
    const uint64_t header_end = bits.position();

    // The end-of-block symbol's canonical code (RFC 1951 3.2.2).
    const unsigned eob_length = codes.lengths[deflate::kEndOfBlock];
    if (eob_length == 0) return std::nullopt;
    CanonicalCode litlen;
    litlen.build(codes.lengths, codes.hlit);
    uint32_t code = litlen.first_codes()[eob_length];
    for (unsigned sym = 0; sym < deflate::kEndOfBlock; ++sym)
        code += codes.lengths[sym] == eob_length;
    // Deflate sends a code's most significant bit first, so in the LSB-first stream the
    // code appears reversed.
    const uint64_t eob_bits = reversed(code, eob_length);

    const size_t tail_start = stream.size() - kTailBytes;
    uint64_t tail;
    std::memcpy(&tail, stream.data() + tail_start, kTailBytes);
    tail = le64toh(tail);
    const uint64_t total_bits = static_cast<uint64_t>(stream.size()) * 8;
    const uint64_t tail_bit = static_cast<uint64_t>(tail_start) * 8;
    std::optional<uint64_t> end;
    for (uint64_t at = total_bits - 7; at <= total_bits; ++at) {
        if (at - eob_length < header_end || at - eob_length < tail_bit) continue;
        const unsigned code_start = static_cast<unsigned>(at - eob_length - tail_bit);
        const unsigned after_code = code_start + eob_length;  // 64 at most
        const bool code_fits =
            ((tail >> code_start) & ((uint64_t{1} << eob_length) - 1)) == eob_bits;
        const bool zeros_after = after_code == 64 || (tail >> after_code) == 0;
        if (!code_fits || !zeros_after) continue;
        if (end) return std::nullopt;  // two places fit: only a walk can tell
        end = at;
    }
    if (!end) return std::nullopt;
    return DeflateLayout{0, *end};
}

}  // namespace d2a
