// conv2d kernels of the dsp level (Cortex-M4/M7/M33/M55 DSP extension):
// - conv1x1_s8_dsp_2x2: 1x1 stride-1 unpadded convolution as a GEMM on the weights in place,
//   2 pixels x 2 output channels per tile, 4 input channels per step: one word per pixel and per
//   channel, widened to halfword pairs by SXTAB16 (adding the input offset) and SXTB16, then
//   8 SMLADs for 16 multiply-adds.
// - conv3x3_in1_s8_dsp: 3x3 convolution of a one-channel input: per output pixel its 9 taps
//   (offset added, padding 0) as halfword pairs once, then per output channel 4 SMLADs and one
//   MLA on its 9 consecutive weights.
#if defined(__ARM_FEATURE_DSP)

#include "kernels/arm_dsp/dsp.h"
#include "kernels/reference/reference.h"

namespace micronet_ad::kernels::dsp {
namespace {

// ---- 1x1 --------------------------------------------------------------------------------------

// What every tile of one GEMM call shares: y[p][o] = Σ_i (x[p][i] + input_offset)·w[o][i] + bias[o].
struct Gemm {
  const std::int8_t* x;
  const std::int8_t* w;
  const std::int32_t* bias;
  std::int8_t* y;
  const Requantization* rq;
  int pixels, in_c, out_c;
  std::int32_t offset2;  // input_offset in both halfwords
  std::uint32_t min4, max4;
};

// One step of the 2x2 tile over 4 input channels, as asm: GCC 12 spills in this loop (it needs
// 14 registers: 4 accumulators, x, w, the stride, the offset pair and 6 temporaries). Channel 1
// (w + in_c) goes first so that channel 0's load can post-increment w.
#define MNAD_DSP_STEP_2X2                    \
  "ldr %[t0], [%[x], %[s]]\n\t"              \
  "ldr %[t1], [%[x]], #4\n\t"                \
  "sxtab16 %[t2], %[off], %[t1]\n\t"         \
  "sxtab16 %[t1], %[off], %[t1], ror #8\n\t" \
  "sxtab16 %[t3], %[off], %[t0]\n\t"         \
  "sxtab16 %[t0], %[off], %[t0], ror #8\n\t" \
  "ldr %[t5], [%[w], %[s]]\n\t"              \
  "sxtb16 %[t4], %[t5]\n\t"                  \
  "sxtb16 %[t5], %[t5], ror #8\n\t"          \
  "smlad %[a01], %[t2], %[t4], %[a01]\n\t"   \
  "smlad %[a11], %[t3], %[t4], %[a11]\n\t"   \
  "smlad %[a01], %[t1], %[t5], %[a01]\n\t"   \
  "smlad %[a11], %[t0], %[t5], %[a11]\n\t"   \
  "ldr %[t5], [%[w]], #4\n\t"                \
  "sxtb16 %[t4], %[t5]\n\t"                  \
  "sxtb16 %[t5], %[t5], ror #8\n\t"          \
  "smlad %[a00], %[t2], %[t4], %[a00]\n\t"   \
  "smlad %[a10], %[t3], %[t4], %[a10]\n\t"   \
  "smlad %[a00], %[t1], %[t5], %[a00]\n\t"   \
  "smlad %[a10], %[t0], %[t5], %[a10]\n\t"

// acc += the 2x2 tile's dot products: pixels x0 and x0 + in_c, channels w0 and w0 + in_c (the
// same stride: pixels and weight rows are both in_c bytes long).
__attribute__((always_inline)) inline void dot_2x2(const std::int8_t* x0, const std::int8_t* w0, int in_c,
                                                   std::int32_t offset2, std::int32_t& a00, std::int32_t& a01,
                                                   std::int32_t& a10, std::int32_t& a11) {
  std::int32_t t0, t1, t2, t3, t4, t5;
  if (in_c >= 16) {
    // The loop's end lives in memory: no register is left for it.
    const std::int8_t* const x_end = x0 + (in_c & ~15);
    __asm__ volatile("1:\n\t" MNAD_DSP_STEP_2X2 MNAD_DSP_STEP_2X2 MNAD_DSP_STEP_2X2 MNAD_DSP_STEP_2X2
                     "ldr %[t0], %[end]\n\t"
                     "cmp %[x], %[t0]\n\t"
                     "bne 1b"
                     : [a00] "+r"(a00), [a01] "+r"(a01), [a10] "+r"(a10), [a11] "+r"(a11), [x] "+r"(x0), [w] "+r"(w0),
                       [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), [t4] "=&r"(t4), [t5] "=&r"(t5)
                     : [s] "r"(in_c), [off] "r"(offset2), [end] "m"(x_end)
                     : "cc", "memory");
  }
  // The last 4..12 whole words of in_c.
  for (int steps = (in_c & 15) >> 2; steps > 0; --steps) {
    __asm__ volatile(MNAD_DSP_STEP_2X2
                     : [a00] "+r"(a00), [a01] "+r"(a01), [a10] "+r"(a10), [a11] "+r"(a11), [x] "+r"(x0), [w] "+r"(w0),
                       [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), [t4] "=&r"(t4), [t5] "=&r"(t5)
                     : [s] "r"(in_c), [off] "r"(offset2)
                     : "memory");
  }
  const std::int32_t offset = static_cast<std::int16_t>(offset2);
  for (int i = 0; i < (in_c & 3); ++i) {
    const std::int32_t xa = x0[i] + offset, xb = x0[in_c + i] + offset;
    const std::int32_t wa = w0[i], wb = w0[in_c + i];
    a00 += xa * wa;
    a01 += xa * wb;
    a10 += xb * wa;
    a11 += xb * wb;
  }
}

// One pixel by one channel: the tails of odd pixel and channel counts.
inline std::int32_t dot_1x1(const std::int8_t* x, const std::int8_t* w, int n, std::int32_t offset2, std::int32_t acc) {
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    const std::uint32_t xv = load32(x + i), wv = load32(w + i);
    acc = __smlad(sxtab16_even(offset2, xv), sxtb16_even(wv), acc);
    acc = __smlad(sxtab16_odd(offset2, xv), sxtb16_odd(wv), acc);
  }
  const std::int32_t offset = static_cast<std::int16_t>(offset2);
  for (; i < n; ++i) acc += (x[i] + offset) * w[i];
  return acc;
}

// requantize_fast's constants of two channels and the clamp, in the order the asm loads them.
struct alignas(8) PairRq {
  std::int32_t high0, multiplier0, shift0, high1, multiplier1, shift1;
  std::uint32_t min4, max4;
};

// One channel's two outputs (of pixels 0 and 1) through requantize_fast and SSAT: constants at
// q + offset (high, multiplier, shift).
#define MNAD_DSP_REQUANTIZE_PAIR(acc_a, acc_b, offset) \
  "ldrd %[k], %[m], [%[q], #" offset                   \
  "]\n\t"                                              \
  "ldr %[sh], [%[q], #" offset                         \
  "+8]\n\t"                                            \
  "and %[lo], %[" acc_a                                \
  "], #0x80000000\n\t"                                 \
  "orr %[lo], %[lo], #0x40000000\n\t"                  \
  "add %[hi], %[k], %[" acc_a                          \
  "], asr #31\n\t"                                     \
  "smlal %[lo], %[hi], %[" acc_a                       \
  "], %[m]\n\t"                                        \
  "asr %[" acc_a                                       \
  "], %[hi], %[sh]\n\t"                                \
  "ssat %[" acc_a "], #8, %[" acc_a                    \
  "]\n\t"                                              \
  "and %[lo], %[" acc_b                                \
  "], #0x80000000\n\t"                                 \
  "orr %[lo], %[lo], #0x40000000\n\t"                  \
  "add %[hi], %[k], %[" acc_b                          \
  "], asr #31\n\t"                                     \
  "smlal %[lo], %[hi], %[" acc_b                       \
  "], %[m]\n\t"                                        \
  "asr %[" acc_b                                       \
  "], %[hi], %[sh]\n\t"                                \
  "ssat %[" acc_b "], #8, %[" acc_b "]\n\t"

// The 2x2 tile's accumulators (bias included) requantized, clamped and stored: pixel 0's two
// bytes at y, pixel 1's at y + out_c. As asm: GCC spreads the 12 constants over stack reloads.
inline void store_2x2_fast(std::int32_t a00, std::int32_t a01, std::int32_t a10, std::int32_t a11, const PairRq& q,
                           std::int8_t* y, int out_c) {
  std::int32_t k, m, sh, lo, hi;
  __asm__ volatile(
      MNAD_DSP_REQUANTIZE_PAIR("a00", "a10", "0")
      MNAD_DSP_REQUANTIZE_PAIR("a01", "a11", "12")
      "bfi %[a00], %[a01], #8, #8\n\t"
      "bfi %[a10], %[a11], #8, #8\n\t"
      "pkhbt %[a00], %[a00], %[a10], lsl #16\n\t"
      "ldrd %[k], %[m], [%[q], #24]\n\t"
      "ssub8 %[lo], %[a00], %[k]\n\t"
      "sel %[a00], %[a00], %[k]\n\t"
      "ssub8 %[lo], %[a00], %[m]\n\t"
      "sel %[a00], %[m], %[a00]\n\t"
      "strh %[a00], [%[y]]\n\t"
      "lsr %[a00], %[a00], #16\n\t"
      "strh %[a00], [%[y], %[oc]]"
      : [a00] "+r"(a00), [a01] "+r"(a01), [a10] "+r"(a10), [a11] "+r"(a11), [k] "=&r"(k), [m] "=&r"(m),
        [sh] "=&r"(sh), [lo] "=&r"(lo), [hi] "=&r"(hi)
      : [q] "r"(&q), [y] "r"(y), [oc] "r"(out_c)
      : "cc", "memory");
}

// Output channels oc and oc + 1 for every pixel; kFast: both channels take requantize_fast.
template <bool kFast>
void gemm_channel_pair(const Gemm& gm, int oc, const FastRq& q0, const FastRq& q1) {
  const Requantization& rq = *gm.rq;
  const int in_c = gm.in_c, out_c = gm.out_c;
  const std::int32_t b0 = bias_at(gm.bias, oc), b1 = bias_at(gm.bias, oc + 1);
  const std::int8_t* const w0 = gm.w + oc * in_c;
  const std::int8_t* x = gm.x;
  std::int8_t* y = gm.y + oc;
  auto requantize = [&](std::int32_t acc, const FastRq& q, int c) {
    return kFast ? requantize_fast(acc, q) : requantize_exact(acc, rq, c);
  };
  const PairRq pair{q0.high, q0.multiplier, q0.shift, q1.high, q1.multiplier, q1.shift, gm.min4, gm.max4};
  int p = 0;
  for (; p + 2 <= gm.pixels; p += 2, x += 2 * in_c, y += 2 * out_c) {
    std::int32_t a00 = b0, a01 = b1, a10 = b0, a11 = b1;
    dot_2x2(x, w0, in_c, gm.offset2, a00, a01, a10, a11);
    if (kFast) {
      store_2x2_fast(a00, a01, a10, a11, pair, y, out_c);
      continue;
    }
    const std::uint32_t px0 = pack2_s8(requantize(a00, q0, oc), requantize(a01, q1, oc + 1));
    const std::uint32_t px1 = pack2_s8(requantize(a10, q0, oc), requantize(a11, q1, oc + 1));
    const std::uint32_t both = clamp4((px0 & 0xFFFFu) | (px1 << 16), gm.min4, gm.max4);
    store16(y, both);
    store16(y + out_c, both >> 16);
  }
  if (p < gm.pixels) {
    const std::int32_t a0 = dot_1x1(x, w0, in_c, gm.offset2, b0);
    const std::int32_t a1 = dot_1x1(x, w0 + in_c, in_c, gm.offset2, b1);
    store16(y, clamp4(pack2_s8(requantize(a0, q0, oc), requantize(a1, q1, oc + 1)), gm.min4, gm.max4));
  }
}

// The last channel of an odd count: exact requantization (one channel of many).
void gemm_single_channel(const Gemm& gm, int oc) {
  const std::int8_t* const w = gm.w + oc * gm.in_c;
  const std::int32_t b = bias_at(gm.bias, oc);
  for (int p = 0; p < gm.pixels; ++p) {
    const std::int32_t acc = dot_1x1(gm.x + p * gm.in_c, w, gm.in_c, gm.offset2, b);
    gm.y[p * gm.out_c + oc] = static_cast<std::int8_t>(requantize_exact(acc, *gm.rq, oc));
  }
}

}  // namespace

bool accepts_conv1x1(const ConvGeometry& g) {
  return g.filter_h == 1 && g.filter_w == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_top == 0 &&
         g.pad_left == 0 && g.in_h == g.out_h && g.in_w == g.out_w && g.depth_multiplier == 1;
}

// The channel pairs of one GEMM over gm.pixels contiguous pixels.
void run_gemm(const Gemm& gm) {
  const Requantization& rq = *gm.rq;
  int oc = 0;
  for (; oc + 2 <= gm.out_c; oc += 2) {
    FastRq q0, q1;
    const bool fast0 = make_fast_rq(rq, oc, &q0);
    const bool fast1 = make_fast_rq(rq, oc + 1, &q1);
    if (fast0 && fast1) {
      gemm_channel_pair<true>(gm, oc, q0, q1);
    } else {
      gemm_channel_pair<false>(gm, oc, q0, q1);
    }
  }
  if (oc < gm.out_c) gemm_single_channel(gm, oc);
}

// A row band (interpreter's band fusion) has in_h > out_h: its pixels are the first out_h rows.
void run_conv1x1(const ConvCall& call) {
  const ConvGeometry& g = *call.g;
  const Requantization& rq = *call.rq;
  if (!act_range_is_int8(rq) || g.pad_top != 0 || g.in_h < g.out_h) {
    reference::conv2d(g, rq, call.x, call.w, call.bias, call.y);
    return;
  }
  const bool contiguous = g.in_h == g.out_h;  // every batch's pixels in one GEMM
  const int gemms = contiguous ? 1 : g.batches;
  const int pixels = (contiguous ? g.batches : 1) * g.out_h * g.out_w;
  for (int b = 0; b < gemms; ++b) {
    run_gemm(Gemm{call.x + b * g.in_h * g.in_w * g.in_c, call.w, call.bias, call.y + b * g.out_h * g.out_w * g.out_c,
                  &rq, pixels, g.in_c, g.out_c, dup16(rq.input_offset), dup8(rq.act_min), dup8(rq.act_max)});
  }
}

namespace {

// ---- 3x3 on a one-channel input -------------------------------------------------------------

// A pixel's 9 taps t0..t8 (row-major, offset added, 0 in the padding) paired to match the
// weights' halfword pairs as SXTB16 makes them from the words w0..3 and w4..7:
// (t0,t2)·(w0,w2), (t1,t3)·(w1,w3), (t4,t6)·(w4,w6), (t7,t5)·(w5,w7) by SMLADX, and t8·w8.
struct Taps9 {
  std::int32_t t02, t13, t46, t75, t8;
};

// Interior pixel whose three window rows each have a 4th readable byte in the same input row:
// one word per row.
inline Taps9 taps_from_rows(const std::int8_t* row, int in_w, std::int32_t offset2) {
  const std::uint32_t r0 = load32(row), r1 = load32(row + in_w), r2 = load32(row + 2 * in_w);
  const std::int32_t r0_e = sxtab16_even(offset2, r0), r0_o = sxtab16_odd(offset2, r0);  // (t0,t2) (t1,·)
  const std::int32_t r1_e = sxtab16_even(offset2, r1), r1_o = sxtab16_odd(offset2, r1);  // (t3,t5) (t4,·)
  const std::int32_t r2_e = sxtab16_even(offset2, r2), r2_o = sxtab16_odd(offset2, r2);  // (t6,t8) (t7,·)
  Taps9 t;
  t.t02 = r0_e;
  t.t13 = pack16(r0_o, r1_e);
  t.t46 = pack16(r1_o, r2_e);
  t.t75 = static_cast<std::int32_t>((static_cast<std::uint32_t>(r2_o) & 0xFFFFu) |
                                    (static_cast<std::uint32_t>(r1_e) & 0xFFFF0000u));
  t.t8 = r2_e >> 16;
  return t;
}

// Any pixel: taps outside the input are 0 (padding contributes (zp − zp)·w).
inline Taps9 taps_checked(const std::int8_t* x, int in_h, int in_w, int iy0, int ix0, std::int32_t offset) {
  std::int32_t t[9];
  for (int fy = 0; fy < 3; ++fy) {
    for (int fx = 0; fx < 3; ++fx) {
      const int iy = iy0 + fy, ix = ix0 + fx;
      const bool inside = iy >= 0 && iy < in_h && ix >= 0 && ix < in_w;
      t[fy * 3 + fx] = inside ? x[iy * in_w + ix] + offset : 0;
    }
  }
  return Taps9{pack16(t[0], t[2]), pack16(t[1], t[3]), pack16(t[4], t[6]), pack16(t[7], t[5]), t[8]};
}

inline std::int32_t dot_taps9(const Taps9& t, const std::int8_t* w, std::int32_t acc) {
  const std::uint32_t wa = load32(w), wb = load32(w + 4);
  acc = __smlad(t.t02, sxtb16_even(wa), acc);
  acc = __smlad(t.t13, sxtb16_odd(wa), acc);
  acc = __smlad(t.t46, sxtb16_even(wb), acc);
  acc = __smladx(t.t75, sxtb16_odd(wb), acc);
  return acc + t.t8 * w[8];
}

// Four consecutive output channels (weights at w, 9 bytes each) on one pixel's taps: acc_k +=
// channel k's 9 products, 12 instructions per channel. As asm: 13 registers, which GCC spills.
#define MNAD_DSP_CHANNEL9(acc, base)        \
  "ldr %[wa], [%[w], #" base                \
  "]\n\t"                                   \
  "ldr %[wb], [%[w], #" base                \
  "+4]\n\t"                                 \
  "sxtb16 %[e], %[wa]\n\t"                  \
  "smlad %[" acc "], %[t02], %[e], %[" acc  \
  "]\n\t"                                   \
  "sxtb16 %[e], %[wa], ror #8\n\t"          \
  "smlad %[" acc "], %[t13], %[e], %[" acc  \
  "]\n\t"                                   \
  "sxtb16 %[e], %[wb]\n\t"                  \
  "smlad %[" acc "], %[t46], %[e], %[" acc  \
  "]\n\t"                                   \
  "sxtb16 %[e], %[wb], ror #8\n\t"          \
  "smladx %[" acc "], %[t75], %[e], %[" acc \
  "]\n\t"                                   \
  "ldrsb %[e], [%[w], #" base               \
  "+8]\n\t"                                 \
  "mla %[" acc "], %[t8], %[e], %[" acc "]\n\t"

__attribute__((always_inline)) inline void dot_taps9_x4(const Taps9& t, const std::int8_t* w, std::int32_t& a0,
                                                        std::int32_t& a1, std::int32_t& a2, std::int32_t& a3) {
  std::int32_t wa, wb, e;
  __asm__ volatile(
      MNAD_DSP_CHANNEL9("a0", "0") MNAD_DSP_CHANNEL9("a1", "9") MNAD_DSP_CHANNEL9("a2", "18")
          MNAD_DSP_CHANNEL9("a3", "27")
      : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [wa] "=&r"(wa), [wb] "=&r"(wb), [e] "=&r"(e)
      : [t02] "r"(t.t02), [t13] "r"(t.t13), [t46] "r"(t.t46), [t75] "r"(t.t75), [t8] "r"(t.t8), [w] "r"(w)
      : "memory");
}

// Channels per block whose requantization constants and biases sit on the stack (< 512 B).
constexpr int kChannelBlock = 12;

struct ChannelBlock {
  Group4Rq rq4[kChannelBlock / 4];
  std::int32_t bias[kChannelBlock];
};

// One output pixel's channels [c0, c0 + n): groups of 4 are requantized, clamped and stored as a word.
template <bool kFast>
void pixel_channels(const Taps9& t, const std::int8_t* w, const ChannelBlock& block, const Requantization& rq, int c0,
                    int n, std::uint32_t min4, std::uint32_t max4, std::int8_t* y) {
  int k = 0;
  for (; k + 4 <= n; k += 4) {
    const std::int8_t* const wk = w + (c0 + k) * 9;
    if (kFast) {
      std::int32_t a0 = block.bias[k], a1 = block.bias[k + 1], a2 = block.bias[k + 2], a3 = block.bias[k + 3];
      dot_taps9_x4(t, wk, a0, a1, a2, a3);
      store_4_fast(a0, a1, a2, a3, block.rq4[k / 4], y + c0 + k);
    } else {
      const std::int32_t a0 = dot_taps9(t, wk, block.bias[k]), a1 = dot_taps9(t, wk + 9, block.bias[k + 1]);
      const std::int32_t a2 = dot_taps9(t, wk + 18, block.bias[k + 2]), a3 = dot_taps9(t, wk + 27, block.bias[k + 3]);
      const std::int32_t r0 = requantize_exact(a0, rq, c0 + k), r1 = requantize_exact(a1, rq, c0 + k + 1);
      const std::int32_t r2 = requantize_exact(a2, rq, c0 + k + 2), r3 = requantize_exact(a3, rq, c0 + k + 3);
      store32(y + c0 + k, clamp4((pack2_s8(r0, r1) & 0xFFFFu) | (pack2_s8(r2, r3) << 16), min4, max4));
    }
  }
  for (; k < n; ++k) {
    const std::int32_t acc = dot_taps9(t, w + (c0 + k) * 9, block.bias[k]);
    y[c0 + k] = static_cast<std::int8_t>(requantize_exact(acc, rq, c0 + k));
  }
}

}  // namespace

bool accepts_conv3x3_in1(const ConvGeometry& g) {
  return g.filter_h == 3 && g.filter_w == 3 && g.in_c == 1 && g.dilation_h == 1 && g.dilation_w == 1 &&
         g.depth_multiplier == 1;
}

void run_conv3x3_in1(const ConvCall& call) {
  const ConvGeometry& g = *call.g;
  const Requantization& rq = *call.rq;
  if (!act_range_is_int8(rq)) {
    reference::conv2d(g, rq, call.x, call.w, call.bias, call.y);
    return;
  }
  const std::int32_t offset2 = dup16(rq.input_offset);
  const std::uint32_t min4 = dup8(rq.act_min), max4 = dup8(rq.act_max);
  const int out_c = g.out_c;
  for (int c0 = 0; c0 < out_c; c0 += kChannelBlock) {
    const int n = out_c - c0 < kChannelBlock ? out_c - c0 : kChannelBlock;
    ChannelBlock block;
    bool fast = true;
    for (int k = 0; k < n; ++k) {
      // The block's last n % 4 channels always take the exact path: only groups of 4 are checked.
      if (k < (n & ~3)) fast = make_fast_rq(rq, c0 + k, &block.rq4[k / 4].q[k % 4]) && fast;
      block.bias[k] = bias_at(call.bias, c0 + k);
    }
    for (int k = 0; k < n / 4; ++k) {
      block.rq4[k].min4 = min4;
      block.rq4[k].max4 = max4;
    }
    for (int b = 0; b < g.batches; ++b) {
      const std::int8_t* x = call.x + b * g.in_h * g.in_w;
      std::int8_t* y = call.y + b * g.out_h * g.out_w * out_c;
      for (int oy = 0; oy < g.out_h; ++oy) {
        const int iy0 = oy * g.stride_h - g.pad_top;
        const bool rows_inside = iy0 >= 0 && iy0 + 3 <= g.in_h;
        for (int ox = 0; ox < g.out_w; ++ox, y += out_c) {
          const int ix0 = ox * g.stride_w - g.pad_left;
          // The word loads read a 4th byte: it must lie in the same input row.
          const Taps9 t = rows_inside && ix0 >= 0 && ix0 + 4 <= g.in_w
                              ? taps_from_rows(x + iy0 * g.in_w + ix0, g.in_w, offset2)
                              : taps_checked(x, g.in_h, g.in_w, iy0, ix0, rq.input_offset);
          if (fast) {
            pixel_channels<true>(t, call.w, block, rq, c0, n, min4, max4, y);
          } else {
            pixel_channels<false>(t, call.w, block, rq, c0, n, min4, max4, y);
          }
        }
      }
    }
  }
}

}  // namespace micronet_ad::kernels::dsp

#endif  // __ARM_FEATURE_DSP
