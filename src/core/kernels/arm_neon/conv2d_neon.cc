// AArch64 NEON convolutions (Armv8-A, no dot product): the 1x1 GEMM with SMULL + SADALP, and the
// first convolution (3x3, one input channel). The `neon_dotprod` row shares the second and runs
// its own 1x1 GEMM with SDOT (conv2d_neondot.cc), whose packed start values are pack_conv1x1's.
#if defined(__aarch64__)
#include <cstring>

#include "kernels/arm_neon/neon.h"
#include "kernels/reference/taps.h"

namespace micronet_ad::kernels::neon {
namespace {

// ---- 1x1: an int8 GEMM over pixels (Armv8-A: SMULL + SADALP) ---------------------------------
//
//   y[m][n] = requantize(Σ_k x[m][k]·w[n][k] + init[n]),  init[n] = bias[n] + input_offset·Σ_k w[n][k]
//
// which equals the reference's Σ(x + offset)·w + bias modulo 2^32 (where the reference wraps too).
// Weights are read in place ([out_c][in_c] rows); init is the only packed data (4 B per channel,
// pack_conv1x1), with a flag that picks the 3-instruction step (DotMullPair) when it is exact.
// A tile is 4 pixels × 4 channels: 16 accumulators of 4 partial sums each, 8 vector loads per 16
// bytes of depth. Tails: pixel and channel rows past the end repeat the last
// one (computed, never stored); the depth tail re-reads the last 16 bytes of each row with the
// already-counted bytes of the weights masked to zero, so that nothing past a row is read.
// Depths below 16 go through zero-padded copies on the stack (64 + 64 B).
constexpr int kTileRows = 4;      // pixels
constexpr int kTileChannels = 4;  // output channels

// 0 for bytes already counted by the main loop, 0xFF for the tail's: vld1q_s8(kTailMask + r)
// keeps the last r bytes of a 16-byte vector.
alignas(16) constexpr std::int8_t kTailMask[32] = {0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
                                                   -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1};

template <class Dot>
struct Tile {
  int32x4_t acc[kTileRows][kTileChannels];

  inline void clear() {
    for (int i = 0; i < kTileRows; ++i)
      for (int j = 0; j < kTileChannels; ++j) acc[i][j] = vdupq_n_s32(0);
  }
  // One step of 16 bytes of depth: x[i] of pixel i, w[j] of channel j.
  inline void step(const int8x16_t x[kTileRows], const int8x16_t w[kTileChannels]) {
    for (int i = 0; i < kTileRows; ++i)
      for (int j = 0; j < kTileChannels; ++j) acc[i][j] = Dot::dot(acc[i][j], x[i], w[j]);
  }
};

template <class Dot>
void conv1x1_gemm(const ConvCall& c) {
  const ConvGeometry& g = *c.g;
  const int m_rows = g.batches * g.out_h * g.out_w, k = g.in_c, n = g.out_c;
  const auto* init = static_cast<const std::int32_t*>(c.packed);
  const Requantization& rq = *c.rq;
  const OutputStage out = output_stage(rq);
  const int k_main = k / 16 * 16, tail = k - k_main;
  const int8x16_t tail_mask = vld1q_s8(kTailMask + tail);
  const bool small_depth = k < 16;
  alignas(16) std::int8_t x_small[kTileRows][16];
  alignas(16) std::int8_t w_small[kTileChannels][16];
  if (small_depth) {
    std::memset(x_small, 0, sizeof(x_small));
    std::memset(w_small, 0, sizeof(w_small));
  }
  for (int m0 = 0; m0 < m_rows; m0 += kTileRows) {
    const std::int8_t* xr[kTileRows];
    for (int i = 0; i < kTileRows; ++i) {
      const int m = m0 + i < m_rows ? m0 + i : m_rows - 1;
      xr[i] = c.x + static_cast<std::size_t>(m) * k;
      if (small_depth) std::memcpy(x_small[i], xr[i], static_cast<std::size_t>(k));
    }
    const int rows = m_rows - m0 < kTileRows ? m_rows - m0 : kTileRows;
    for (int n0 = 0; n0 < n; n0 += kTileChannels) {
      const std::int8_t* wr[kTileChannels];
      for (int j = 0; j < kTileChannels; ++j) {
        const int ch = n0 + j < n ? n0 + j : n - 1;
        wr[j] = c.w + static_cast<std::size_t>(ch) * k;
        if (small_depth) std::memcpy(w_small[j], wr[j], static_cast<std::size_t>(k));
      }
      Tile<Dot> t;
      t.clear();
      int8x16_t xv[kTileRows], wv[kTileChannels];
      if (small_depth) {
        for (int i = 0; i < kTileRows; ++i) xv[i] = vld1q_s8(x_small[i]);
        for (int j = 0; j < kTileChannels; ++j) wv[j] = vld1q_s8(w_small[j]);
        t.step(xv, wv);
      } else {
        for (int kk = 0; kk < k_main; kk += 16) {
          for (int i = 0; i < kTileRows; ++i) xv[i] = vld1q_s8(xr[i] + kk);
          for (int j = 0; j < kTileChannels; ++j) wv[j] = vld1q_s8(wr[j] + kk);
          t.step(xv, wv);
        }
        if (tail > 0) {
          for (int i = 0; i < kTileRows; ++i) xv[i] = vld1q_s8(xr[i] + k - 16);
          for (int j = 0; j < kTileChannels; ++j) wv[j] = vandq_s8(vld1q_s8(wr[j] + k - 16), tail_mask);
          t.step(xv, wv);
        }
      }
      const int32x4_t start = vld1q_s32(init + n0);
      const Requant4 q = requant4(rq.multipliers + n0, rq.shifts + n0);
      const int channels = n - n0 < kTileChannels ? n - n0 : kTileChannels;
      for (int i = 0; i < kTileRows; ++i) {
        if (i >= rows) break;
        const int32x4_t sums = vpaddq_s32(vpaddq_s32(t.acc[i][0], t.acc[i][1]), vpaddq_s32(t.acc[i][2], t.acc[i][3]));
        const int32x4_t v = requantize(vaddq_s32(sums, start), q, out);
        const int8x8_t bytes = narrow8(v, v);
        std::int8_t* y = c.y + static_cast<std::size_t>(m0 + i) * n + n0;
        alignas(8) std::int8_t tmp[8];
        vst1_s8(tmp, bytes);
        if (channels == kTileChannels)
          std::memcpy(y, tmp, kTileChannels);  // one 32-bit store
        else
          std::memcpy(y, tmp, static_cast<std::size_t>(channels));
      }
    }
  }
}

// 16 int8 products per step into four int32 lanes of partial sums: SMULL (exact int16 products,
// |x·w| ≤ 2^14) and SADALP (pairwise add into int32): 4 instructions.
struct DotMull {
  static inline int32x4_t dot(int32x4_t acc, int8x16_t x, int8x16_t w) {
    acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(x), vget_low_s8(w)));
    return vpadalq_s16(acc, vmull_high_s8(x, w));
  }
};
// The same in 3 when the layer has no weight −128: SMULL + SMLAL2 sum two products in int16
// (|x·w| ≤ 128·127, two of them ≤ 32512 < 2^15), then SADALP. Only (−128)·(−128) twice would not
// fit, so pack_conv1x1 looks at every weight once and records which loop is exact.
struct DotMullPair {
  static inline int32x4_t dot(int32x4_t acc, int8x16_t x, int8x16_t w) {
    return vpadalq_s16(acc, vmlal_high_s8(vmull_s8(vget_low_s8(x), vget_low_s8(w)), x, w));
  }
};

}  // namespace

// 1x1, stride 1, no padding: the input pixels are the GEMM's rows as they lie (in any row band too).
bool accepts_conv1x1(const ConvGeometry& g) {
  return g.filter_h == 1 && g.filter_w == 1 && g.stride_h == 1 && g.stride_w == 1 && g.out_h == g.in_h &&
         g.out_w == g.in_w && g.in_c > 0 && g.out_c > 0;
}

std::size_t conv1x1_packed_bytes(const ConvGeometry& g) { return conv1x1_init_bytes(g.out_c); }

// init[n] = bias[n] + input_offset·Σw[n] (mod 2^32), zero in the padding; then one int32: 1 when
// some weight is −128.
void pack_conv1x1(const ConvGeometry& g, const std::int8_t* w, const std::int32_t* bias, std::int32_t input_offset,
                  void* packed) {
  auto* init = static_cast<std::int32_t*>(packed);
  const int np = padded(g.out_c);
  std::int32_t has_min = 0;
  for (int n = 0; n < np; ++n) {
    if (n >= g.out_c) {
      init[n] = 0;
      continue;
    }
    std::int32_t sum = 0;
    for (int k = 0; k < g.in_c; ++k) {
      const std::int8_t wk = w[static_cast<std::size_t>(n) * g.in_c + k];
      sum += wk;
      has_min |= wk == -128 ? 1 : 0;
    }
    init[n] = wrap_add(bias != nullptr ? bias[n] : 0, wrap_mul(input_offset, sum));
  }
  for (int i = 0; i < kChannelPadding; ++i) init[np + i] = i == 0 ? has_min : 0;
}

void run_conv1x1(const ConvCall& call) {
  const auto* init = static_cast<const std::int32_t*>(call.packed);
  if (init[padded(call.g->out_c)] != 0)
    conv1x1_gemm<DotMull>(call);
  else
    conv1x1_gemm<DotMullPair>(call);
}

// ---- 3x3, one input channel (the models' first layer) ------------------------------------------
// Packed at init: the weights as int16 [9 taps][padded(out_c)], then the bias as int32
// [padded(out_c)] (zero where the model has none). Per output pixel the 9 taps' x + offset are
// gathered once (taps in the padding are 0: the reference skips them); four pixels go together, so
// that per 8 channels each of the 9 weight vectors is loaded once for 72 SMLAL (by lane) onto the
// bias.
bool accepts_conv3x3_in1(const ConvGeometry& g) {
  return g.in_c == 1 && g.filter_h == 3 && g.filter_w == 3 && g.dilation_h == 1 && g.dilation_w == 1 && g.out_c > 0;
}

std::size_t conv3x3_in1_packed_bytes(const ConvGeometry& g) {
  return (9 * sizeof(std::int16_t) + sizeof(std::int32_t)) * static_cast<std::size_t>(padded(g.out_c));
}

void pack_conv3x3_in1(const ConvGeometry& g, const std::int8_t* w, const std::int32_t* bias, std::int32_t,
                      void* packed) {
  const int np = padded(g.out_c);
  auto* wt = static_cast<std::int16_t*>(packed);
  auto* init = reinterpret_cast<std::int32_t*>(wt + 9 * np);
  for (int n = 0; n < np; ++n) {
    for (int t = 0; t < 9; ++t) wt[t * np + n] = n < g.out_c ? w[n * 9 + t] : 0;
    init[n] = n < g.out_c && bias != nullptr ? bias[n] : 0;
  }
}

namespace {
constexpr int kPixels = 4;  // output pixels per pass: each weight vector loaded once for four

// Taps 0..7 of pixel P are lanes of taps[P]; tap 8 of all four pixels is lane P of `last`.
struct Taps {
  int16x8_t taps[kPixels];
  int16x8_t last;
};
struct Acc8 {
  int32x4_t lo[kPixels], hi[kPixels];
};

template <int T>
inline void tap(Acc8& a, const std::int16_t* w, int np, const Taps& t) {
  const int16x8_t wv = vld1q_s16(w + T * np);
  for (int p = 0; p < kPixels; ++p) {
    a.lo[p] = vmlal_laneq_s16(a.lo[p], vget_low_s16(wv), t.taps[p], T);
    a.hi[p] = vmlal_high_laneq_s16(a.hi[p], wv, t.taps[p], T);
  }
}
template <int P>
inline void tap8(Acc8& a, int16x8_t w8, const Taps& t) {
  a.lo[P] = vmlal_laneq_s16(a.lo[P], vget_low_s16(w8), t.last, P);
  a.hi[P] = vmlal_high_laneq_s16(a.hi[P], w8, t.last, P);
}
}  // namespace

void run_conv3x3_in1(const ConvCall& c) {
  const ConvGeometry& g = *c.g;
  const Requantization& rq = *c.rq;
  const OutputStage out = output_stage(rq);
  const int n = g.out_c, np = padded(n);
  const auto* wt = static_cast<const std::int16_t*>(c.packed);
  const auto* init = reinterpret_cast<const std::int32_t*>(wt + 9 * np);
  const auto offset = static_cast<std::int16_t>(rq.input_offset);
  for (int b = 0; b < g.batches; ++b) {
    for (int oy = 0; oy < g.out_h; ++oy) {
      const int in_y0 = oy * g.stride_h - g.pad_top;
      const reference::TapRange ty = reference::tap_range(in_y0, 3, 1, g.in_h);
      std::int8_t* yrow = c.y + (static_cast<std::size_t>(b) * g.out_h + oy) * g.out_w * n;
      for (int ox0 = 0; ox0 < g.out_w; ox0 += kPixels) {
        // x + offset of each pixel's 9 taps (0 in the padding); pixels past the row repeat the last.
        alignas(16) std::int16_t taps[kPixels + 1][8] = {};
        for (int p = 0; p < kPixels; ++p) {
          const int ox = ox0 + p < g.out_w ? ox0 + p : g.out_w - 1;
          const int in_x0 = ox * g.stride_w - g.pad_left;
          const reference::TapRange tx = reference::tap_range(in_x0, 3, 1, g.in_w);
          for (int fy = ty.begin; fy < ty.end; ++fy) {
            const std::int8_t* row = c.x + (static_cast<std::size_t>(b) * g.in_h + in_y0 + fy) * g.in_w + in_x0;
            for (int fx = tx.begin; fx < tx.end; ++fx) {
              const int t = fy * 3 + fx;
              const auto v = static_cast<std::int16_t>(row[fx] + offset);
              if (t < 8)
                taps[p][t] = v;
              else
                taps[kPixels][p] = v;
            }
          }
        }
        Taps t;
        for (int p = 0; p < kPixels; ++p) t.taps[p] = vld1q_s16(taps[p]);
        t.last = vld1q_s16(taps[kPixels]);
        const int pixels = g.out_w - ox0 < kPixels ? g.out_w - ox0 : kPixels;
        for (int n0 = 0; n0 < n; n0 += 8) {
          const int32x4_t init_lo = vld1q_s32(init + n0), init_hi = vld1q_s32(init + n0 + 4);
          Acc8 a;
          for (int p = 0; p < kPixels; ++p) {
            a.lo[p] = init_lo;
            a.hi[p] = init_hi;
          }
          const std::int16_t* w = wt + n0;
          tap<0>(a, w, np, t);
          tap<1>(a, w, np, t);
          tap<2>(a, w, np, t);
          tap<3>(a, w, np, t);
          tap<4>(a, w, np, t);
          tap<5>(a, w, np, t);
          tap<6>(a, w, np, t);
          tap<7>(a, w, np, t);
          const int16x8_t w8 = vld1q_s16(w + 8 * np);
          tap8<0>(a, w8, t);
          tap8<1>(a, w8, t);
          tap8<2>(a, w8, t);
          tap8<3>(a, w8, t);
          const Requant4 q_lo = requant4(rq.multipliers + n0, rq.shifts + n0);
          const Requant4 q_hi = requant4(rq.multipliers + n0 + 4, rq.shifts + n0 + 4);
          for (int p = 0; p < kPixels; ++p) {
            if (p >= pixels) break;
            const int8x8_t bytes = narrow8(requantize(a.lo[p], q_lo, out), requantize(a.hi[p], q_hi, out));
            std::int8_t* y = yrow + static_cast<std::size_t>(ox0 + p) * n + n0;
            if (n0 + 8 <= n) {
              vst1_s8(y, bytes);
            } else {
              alignas(8) std::int8_t tmp[8];
              vst1_s8(tmp, bytes);
              std::memcpy(y, tmp, static_cast<std::size_t>(n - n0));
            }
          }
        }
      }
    }
  }
}

}  // namespace micronet_ad::kernels::neon
#endif  // __aarch64__
