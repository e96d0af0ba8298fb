#include "aci/deflate_walk.hpp"

#include <array>
#include <cstring>
#include <vector>

#include "util/error.hpp"

namespace d2a {

namespace {

constexpr unsigned kMaxBits = 15;

constexpr std::array<uint8_t, 29> kLengthExtra = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                                  2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
constexpr std::array<uint8_t, 30> kDistExtra = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                                6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

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
        while (count_ <= 56) {
            // Past the end the stream reads as zeros; overrun() tells if they were used.
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

// A canonical Huffman code. Deflate sends codes most significant bit first, so a table
// indexed by the next kFastBits bits (the code reversed) decodes short codes in one step
// (entry: symbol << 4 | length); longer codes, which are rare, are decoded bit by bit
// from the counts per length (as zlib's puff does). Small tables: libdeflate starts a new
// block every few kilobytes, and each needs its own.
class Code {
  public:
    void build(const uint8_t* lengths, size_t count) {
        count_.fill(0);
        for (size_t i = 0; i < count; ++i) ++count_[lengths[i]];
        count_[0] = 0;
        std::array<uint16_t, kMaxBits + 2> offset{};
        for (unsigned len = 1; len <= kMaxBits; ++len) offset[len + 1] = offset[len] + count_[len];
        symbols_.resize(count);
        std::array<uint32_t, kMaxBits + 1> next{};
        uint32_t code = 0;
        for (unsigned len = 1; len <= kMaxBits; ++len) {
            code = (code + count_[len - 1]) << 1;
            next[len] = code;
        }
        fast_.fill(0);
        for (size_t sym = 0; sym < count; ++sym) {
            unsigned len = lengths[sym];
            if (len == 0) continue;
            symbols_[offset[len]++] = static_cast<uint16_t>(sym);
            uint32_t c = next[len]++;
            if (c >= (1u << len)) malformed("over-subscribed code");
            if (len > kFastBits) continue;
            uint32_t reversed = 0;
            for (unsigned b = 0; b < len; ++b) reversed |= ((c >> b) & 1) << (len - 1 - b);
            const uint16_t entry = static_cast<uint16_t>(sym << 4 | len);
            for (uint32_t fill = reversed; fill < fast_.size(); fill += 1u << len) fast_[fill] = entry;
        }
    }
    // The next symbol; the caller has refilled the bits.
    unsigned decode(Bits& bits) const {
        uint16_t e = fast_[bits.peek(kFastBits)];
        if (e != 0) {
            bits.skip(e & 15);
            return e >> 4;
        }
        return decode_slowly(bits);
    }

  private:
    static constexpr unsigned kFastBits = 10;
    unsigned decode_slowly(Bits& bits) const {
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
    std::array<uint16_t, 1u << kFastBits> fast_{};
    std::array<uint16_t, kMaxBits + 1> count_{};
    std::vector<uint16_t> symbols_;
};

void read_dynamic_codes(Bits& bits, Code& litlen, Code& dist) {
    const unsigned hlit = static_cast<unsigned>(bits.take(5)) + 257;
    const unsigned hdist = static_cast<unsigned>(bits.take(5)) + 1;
    const unsigned hclen = static_cast<unsigned>(bits.take(4)) + 4;
    static constexpr uint8_t kOrder[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
    uint8_t cl_lengths[19] = {};
    for (unsigned i = 0; i < hclen; ++i) cl_lengths[kOrder[i]] = static_cast<uint8_t>(bits.take(3));
    Code cl;
    cl.build(cl_lengths, 19);
    uint8_t lengths[288 + 32] = {};
    unsigned n = 0;
    while (n < hlit + hdist) {
        bits.refill();
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
    litlen.build(lengths, hlit);
    dist.build(lengths + hlit, hdist);
}

void skip_symbols(Bits& bits, const Code& litlen, const Code& dist) {
    for (;;) {
        // Past the end the bits read as zeros, which may well decode: stop there.
        if (bits.overrun()) malformed("truncated block");
        bits.refill();
        unsigned sym = litlen.decode(bits);
        if (sym < 256) continue;
        if (sym == 256) return;
        sym -= 257;
        if (sym >= kLengthExtra.size()) malformed("bad length symbol");
        bits.skip(kLengthExtra[sym]);
        unsigned d = dist.decode(bits);
        if (d >= kDistExtra.size()) malformed("bad distance symbol");
        bits.skip(kDistExtra[d]);
        if (bits.overrun()) malformed("truncated block");
    }
}

const std::pair<Code, Code>& fixed_codes() {
    static const std::pair<Code, Code> codes = [] {
        std::pair<Code, Code> c;
        uint8_t lengths[288];
        for (unsigned i = 0; i < 288; ++i) lengths[i] = i < 144 ? 8 : i < 256 ? 9 : i < 280 ? 7 : 8;
        c.first.build(lengths, 288);
        uint8_t dist[30];
        std::memset(dist, 5, sizeof dist);
        c.second.build(dist, 30);
        return c;
    }();
    return codes;
}

}  // namespace

DeflateLayout walk_deflate(std::span<const unsigned char> stream) {
    Bits bits(stream);
    Code litlen, dist;
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

}  // namespace d2a
