// The constants of the deflate format (RFC 1951), written once for every part of codec/
// that reads or writes deflate: the length and distance codes' extra bits (3.2.5), the fixed codes
// (3.2.6), the order of the code length code's lengths (3.2.7), and a stored block's
// header.
#pragma once

#include <array>
#include <cstdint>

namespace d2a::deflate {

inline constexpr unsigned kMaxBits = 15;    // longest code of the literal/length and distance codes
inline constexpr unsigned kWindow = 32768;  // farthest a match reaches back
inline constexpr unsigned kEndOfBlock = 256;  // literal/length symbol
inline constexpr unsigned kFirstLengthSymbol = 257;
inline constexpr unsigned kLiteralLengthSymbols = 288;  // 286 used; the fixed code has 288
inline constexpr unsigned kDistanceSymbols = 30;
inline constexpr unsigned kCodeLengthSymbols = 19;

// 3.2.5: the extra bits of length codes 257..285 (index 0..28) and distance codes 0..29.
inline constexpr std::array<uint8_t, 29> kLengthExtra = {
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
inline constexpr std::array<uint8_t, 30> kDistanceExtra = {0, 0, 0,  0,  1,  1,  2,  2,  3,  3,
                                                           4, 4, 5,  5,  6,  6,  7,  7,  8,  8,
                                                           9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

// 3.2.7: the order in which a dynamic block sends the code length code's lengths.
inline constexpr std::array<uint8_t, 19> kCodeLengthOrder = {16, 17, 18, 0, 8,  7, 9,  6, 10, 5,
                                                             11, 4,  12, 3, 13, 2, 14, 1, 15};

// 3.2.6: the fixed literal/length code's lengths (the distance code's are all 5).
constexpr uint8_t fixed_literal_length_bits(unsigned symbol) {
    return symbol < 144 ? 8 : symbol < 256 ? 9 : symbol < 280 ? 7 : 8;
}
inline constexpr uint8_t kFixedDistanceBits = 5;

// 3.2.4: a stored block holds at most this many bytes, after LEN and NLEN = ~LEN.
inline constexpr unsigned kMaxStoredLength = 65535;
// 3.2.4: an empty stored block after its 3-bit header and the padding to a byte: LEN 0,
// NLEN 0xffff.
inline constexpr std::array<unsigned char, 4> kEmptyStoredBody = {0, 0, 0xff, 0xff};

}  // namespace d2a::deflate
