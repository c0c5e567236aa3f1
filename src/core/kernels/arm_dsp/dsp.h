// Building blocks of the dsp level's kernels (Armv7E-M / Armv8-M DSP extension): unaligned word
// loads, byte-to-halfword sign extension with the input offset, and requantization in a handful
// of instructions. Included only by files guarded by __ARM_FEATURE_DSP.
#pragma once

#include <arm_acle.h>

#include <cstdint>
#include <cstring>

#include "kernels/kernel_params.h"
#include "kernels/level.h"
#include "quant/quantization.h"

namespace micronet_ad::kernels::dsp {

// The kernels (conv2d_dsp.cc, depthwise_conv2d_dsp.cc, average_pool2d_dsp.cc); level_dsp.cc lists them.
bool accepts_conv1x1(const ConvGeometry& g);
void run_conv1x1(const ConvCall& call);
bool accepts_conv3x3_in1(const ConvGeometry& g);
void run_conv3x3_in1(const ConvCall& call);
bool accepts_depthwise3x3(const ConvGeometry& g);
void run_depthwise3x3(const ConvCall& call);
bool accepts_average_pool(const PoolGeometry& g);
void run_average_pool(const PoolGeometry& g, const std::int8_t* x, std::int8_t* y);

// One word from any address: the M4 and M55 load unaligned words with a single LDR.
inline std::uint32_t load32(const std::int8_t* p) {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

inline void store16(std::int8_t* p, std::uint32_t v) {
  const std::uint16_t h = static_cast<std::uint16_t>(v);
  std::memcpy(p, &h, sizeof h);
}

inline void store32(std::int8_t* p, std::uint32_t v) { std::memcpy(p, &v, sizeof v); }

// Bytes 0 and 2 of v, sign-extended to halfwords: __sxtb16. The odd bytes 1 and 3 need the
// rotated form, which GCC 12's ACLE lacks (SXTB16 and SXTAB16 rotate for free).
inline std::int32_t sxtb16_odd(std::uint32_t v) {
  std::int32_t r;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
  return r;
}

// Halfwords of `offset2` plus the sign-extended bytes 1 and 3 of v.
inline std::int32_t sxtab16_odd(std::int32_t offset2, std::uint32_t v) {
  std::int32_t r;
  __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(offset2), "r"(v));
  return r;
}

inline std::int32_t sxtab16_even(std::int32_t offset2, std::uint32_t v) {
  return __sxtab16(offset2, static_cast<std::int32_t>(v));
}

inline std::int32_t sxtb16_even(std::uint32_t v) { return __sxtb16(static_cast<std::int32_t>(v)); }

// Both halfwords of a word hold `v` (an int16).
inline std::int32_t dup16(std::int32_t v) {
  return static_cast<std::int32_t>((static_cast<std::uint32_t>(v) & 0xFFFFu) * 0x00010001u);
}

// Each byte of a word holds `v` (an int8).
inline std::uint32_t dup8(std::int32_t v) { return (static_cast<std::uint32_t>(v) & 0xFFu) * 0x01010101u; }

// Low halfwords of lo and hi as one word (PKHBT).
inline std::int32_t pack16(std::int32_t lo, std::int32_t hi) {
  return static_cast<std::int32_t>((static_cast<std::uint32_t>(lo) & 0xFFFFu) | (static_cast<std::uint32_t>(hi) << 16));
}

// Byte-wise clamp of four int8 lanes to [min4, max4] lanes (SSUB8 sets GE, SEL picks). One asm
// block: the GE flags must not be clobbered between the two instructions.
inline std::uint32_t clamp4(std::uint32_t v, std::uint32_t min4, std::uint32_t max4) {
  std::uint32_t t;
  __asm__(
      "ssub8 %1, %0, %2\n\t"
      "sel %0, %0, %2\n\t"
      "ssub8 %1, %0, %3\n\t"
      "sel %0, %3, %0"
      : "+r"(v), "=&r"(t)
      : "r"(min4), "r"(max4)
      : "cc");
  return v;
}

// ---- requantization ------------------------------------------------------------------------
// quant::requantize for a channel whose multiplier m ≥ 0 and exponent shift = −e with 2 ≤ e ≤ 23
// (every real model: multipliers below 1/2) in one 64-bit multiply-accumulate. With p = acc·m,
// SaturatingRoundingDoublingHighMul is h = (p + 2^30) >> 31 and RoundingDivideByPOT(h, e) is
// (h + 2^(e−1) − [h < 0]) >> e; the two floors nest into one:
//   v = (p + 2^30 + 2^(30+e) − 2^31·[p < −2^30]) >> (31 + e).
// [p < −2^30] may be replaced by [acc < 0] when m ≥ 0: for p in [−2^30, 0] both numerators lie in
// [0, 2^(31+e)), so v = 0 either way. The addend's low word is then 2^30 | (acc & 2^31) and its
// high word 2^(e−2) − [acc < 0]. The output offset rides along in the high word as
// output_offset·2^(e−1): e ≤ 23 keeps that word inside int32 (|p| < 2^62), and the final
// v = high >> (e − 1) is then quant's result plus the offset, without wrap-around.
struct FastRq {
  std::int32_t high;        // 2^(e−2) + output_offset·2^(e−1)
  std::int32_t multiplier;  // m ≥ 0
  std::int32_t shift;       // e − 1
};

// Whether channel c takes the fast path, and its constants if so.
inline bool make_fast_rq(const Requantization& rq, int c, FastRq* q) {
  const std::int32_t m = rq.multipliers[c];
  const std::int32_t e = -rq.shifts[c];
  if (m < 0 || e < 2 || e > 23) return false;
  q->high = static_cast<std::int32_t>((1u << (e - 2)) + (static_cast<std::uint32_t>(rq.output_offset) << (e - 1)));
  q->multiplier = m;
  q->shift = e - 1;
  return true;
}

// quant's value plus the output offset, before the clamp (acc includes the bias).
inline std::int32_t requantize_fast(std::int32_t acc, std::int32_t high, std::int32_t multiplier, std::int32_t shift) {
  std::uint32_t lo = (static_cast<std::uint32_t>(acc) & 0x80000000u) | 0x40000000u;
  std::int32_t hi = high + (acc >> 31);
  __asm__("smlal %0, %1, %2, %3" : "+r"(lo), "+r"(hi) : "r"(acc), "r"(multiplier));
  return hi >> shift;
}

inline std::int32_t requantize_fast(std::int32_t acc, const FastRq& q) {
  return requantize_fast(acc, q.high, q.multiplier, q.shift);
}

// One output through requantize_fast and SSAT, as asm text: constants (high, multiplier, shift)
// at q + offset; temporaries k, m, sh, lo, hi.
#define MNAD_DSP_REQUANTIZE_ONE(acc, offset) \
  "ldrd %[k], %[m], [%[q], #" offset         \
  "]\n\t"                                    \
  "ldr %[sh], [%[q], #" offset               \
  "+8]\n\t"                                  \
  "and %[lo], %[" acc                        \
  "], #0x80000000\n\t"                       \
  "orr %[lo], %[lo], #0x40000000\n\t"        \
  "add %[hi], %[k], %[" acc                  \
  "], asr #31\n\t"                           \
  "smlal %[lo], %[hi], %[" acc               \
  "], %[m]\n\t"                              \
  "asr %[" acc                               \
  "], %[hi], %[sh]\n\t"                      \
  "ssat %[" acc "], #8, %[" acc "]\n\t"

// Four consecutive channels' constants and the clamp, in the order the asm below reads them.
struct alignas(8) Group4Rq {
  FastRq q[4];
  std::uint32_t min4, max4;
};

// Four consecutive channels' accumulators (bias included) requantized, clamped, stored as one
// word at y: 41 instructions. GCC, left alone, reloads the 14 constants around spills.
inline void store_4_fast(std::int32_t a0, std::int32_t a1, std::int32_t a2, std::int32_t a3, const Group4Rq& q,
                         std::int8_t* y) {
  std::int32_t k, m, sh, lo, hi;
  __asm__ volatile(
      MNAD_DSP_REQUANTIZE_ONE("a0", "0")
      MNAD_DSP_REQUANTIZE_ONE("a1", "12")
      MNAD_DSP_REQUANTIZE_ONE("a2", "24")
      MNAD_DSP_REQUANTIZE_ONE("a3", "36")
      "bfi %[a0], %[a1], #8, #8\n\t"
      "bfi %[a2], %[a3], #8, #8\n\t"
      "pkhbt %[a0], %[a0], %[a2], lsl #16\n\t"
      "ldrd %[k], %[m], [%[q], #48]\n\t"
      "ssub8 %[lo], %[a0], %[k]\n\t"
      "sel %[a0], %[a0], %[k]\n\t"
      "ssub8 %[lo], %[a0], %[m]\n\t"
      "sel %[a0], %[m], %[a0]\n\t"
      "str %[a0], [%[y]]"
      : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [k] "=&r"(k), [m] "=&r"(m), [sh] "=&r"(sh),
        [lo] "=&r"(lo), [hi] "=&r"(hi)
      : [q] "r"(&q), [y] "r"(y)
      : "cc", "memory");
}

// The exact path for any channel (acc includes the bias): quant::requantize itself.
inline std::int32_t requantize_exact(std::int32_t acc, const Requantization& rq, int c) {
  return quant::requantize(acc, 0, rq.multipliers[c], rq.shifts[c], rq.output_offset, rq.act_min, rq.act_max);
}

// The byte clamps need act_min ≤ act_max inside int8 (every model; the reference defines other
// ranges too, so kernels hand those calls to it).
inline bool act_range_is_int8(const Requantization& rq) {
  return -128 <= rq.act_min && rq.act_min <= rq.act_max && rq.act_max <= 127;
}

// Two int32 results, saturated to int8, as bytes 0 and 1 of a word (the other bytes: garbage).
inline std::uint32_t pack2_s8(std::int32_t a, std::int32_t b) {
  return (static_cast<std::uint32_t>(__ssat(a, 8)) & 0xFFu) | (static_cast<std::uint32_t>(__ssat(b, 8)) << 8);
}

inline std::int32_t bias_at(const std::int32_t* bias, int c) { return bias != nullptr ? bias[c] : 0; }

}  // namespace micronet_ad::kernels::dsp
