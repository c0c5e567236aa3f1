// The 1x1 GEMM of the `neon_dotprod` level: SDOT by element (Armv8.2-A FEAT_DotProd,
// vdotq_laneq_s32) multiplies four weights of each of four channels by the same four input bytes
// and adds each channel's sum into its own lane, so the accumulators hold output channels
// directly: no horizontal reduction, and one requantization per vector of four channels.
//
//   y[m][n] = requantize(Σ_k x[m][k]·w[n][k] + init[n]),  init[n] = bias[n] + input_offset·Σ_k w[n][k]
//
// equal to the reference's Σ(x + offset)·w + bias modulo 2^32 (where the reference wraps too).
// Packed at init (pack_conv1x1_dot): per block of 8 output channels and per group of 4 depth
// bytes, 32 bytes — channel c's bytes k..k+3 at 4c (zero past the depth or the channels) — then
// init[padded(n)]. A tile is 8 pixels × 8 channels: 16 accumulators; per 16 bytes of depth 8 input
// loads, 8 weight loads and 64 SDOT (0.078 instructions per multiply-add). Pixels past the end
// repeat the last one (computed, never stored). The depth tail re-reads the row's last 16 bytes and
// moves the unread ones down with TBL (zeros above), so that nothing past a row is read; depths
// below 16 go through zero-padded copies on the stack (8 × 16 B).
//
// This file alone is compiled for +dotprod (the pragma below, after every include, so that no
// shared inline code is built for it); the level's row runs it only where cpu_supports() finds
// the extension (level_neon.cc).
#if defined(__aarch64__)
#include <arm_neon.h>

#include <cstring>

#include "kernels/arm_neon/neon.h"

namespace micronet_ad::kernels::neon {
namespace {
constexpr int kRows = 8;   // pixels per tile
constexpr int kBlock = 8;  // output channels per tile and per packed block
int groups(int k) { return (k + 3) / 4; }
std::size_t weight_bytes(const ConvGeometry& g) {
  return static_cast<std::size_t>(padded(g.out_c) / kBlock) * static_cast<std::size_t>(groups(g.in_c)) * 32;
}
}  // namespace

std::size_t conv1x1_dot_packed_bytes(const ConvGeometry& g) { return weight_bytes(g) + conv1x1_init_bytes(g.out_c); }

void pack_conv1x1_dot(const ConvGeometry& g, const std::int8_t* w, const std::int32_t* bias, std::int32_t input_offset,
                      void* packed) {
  const int k = g.in_c, n = g.out_c, np = padded(n), gk = groups(k);
  auto* out = static_cast<std::int8_t*>(packed);
  for (int b = 0; b < np / kBlock; ++b)
    for (int gi = 0; gi < gk; ++gi)
      for (int c = 0; c < kBlock; ++c)
        for (int j = 0; j < 4; ++j) {
          const int ch = b * kBlock + c, kk = gi * 4 + j;
          *out++ = ch < n && kk < k ? w[static_cast<std::size_t>(ch) * k + kk] : 0;
        }
  pack_conv1x1(g, w, bias, input_offset, out);  // init[] (conv2d_neon.cc): its layout is shared
}

#if defined(__clang__)
// Clang's arm_neon.h defines the dot-product intrinsics only for a dotprod target: this file gets
// -march=armv8.2-a+dotprod from src/core/kernels/CMakeLists.txt (it runs only where cpu_supports()).
#if !defined(__ARM_FEATURE_DOTPROD)
#error "with clang, compile conv2d_neondot.cc with -march=armv8.2-a+dotprod"
#endif
#else
#pragma GCC push_options
#pragma GCC target("arch=armv8.2-a+dotprod")
#endif

namespace {

// The 8 × 8 tile's accumulators and the four steps of one 16-byte x vector per pixel.
struct Tile {
  int32x4_t lo[kRows], hi[kRows];
};

template <int Lane>
inline void group(Tile& t, const int8x16_t x[kRows], const std::int8_t* wp) {
  const int8x16_t w_lo = vld1q_s8(wp), w_hi = vld1q_s8(wp + 16);
  for (int i = 0; i < kRows; ++i) {
    t.lo[i] = vdotq_laneq_s32(t.lo[i], w_lo, x[i], Lane);
    t.hi[i] = vdotq_laneq_s32(t.hi[i], w_hi, x[i], Lane);
  }
}

}  // namespace

void run_conv1x1_dot(const ConvCall& c) {
  const ConvGeometry& g = *c.g;
  const int m_rows = g.batches * g.out_h * g.out_w, k = g.in_c, n = g.out_c, np = padded(n), gk = groups(k);
  const auto* packed = static_cast<const std::int8_t*>(c.packed);
  const auto* init = reinterpret_cast<const std::int32_t*>(packed + weight_bytes(g));
  const Requantization& rq = *c.rq;
  const OutputStage out = output_stage(rq);
  const int k_main = k / 16 * 16, tail = k - k_main;
  const int tail_groups = (tail + 3) / 4;
  const bool small_depth = k < 16;
  // TBL indices moving bytes 16 − tail.. of the last 16 down to 0.. (indices ≥ 16 give zeros).
  const uint8x16_t iota = vcombine_u8(vcreate_u8(0x0706050403020100ULL), vcreate_u8(0x0f0e0d0c0b0a0908ULL));
  const uint8x16_t tail_index = vaddq_u8(iota, vdupq_n_u8(static_cast<std::uint8_t>(16 - tail)));
  alignas(16) std::int8_t x_small[kRows][16];
  if (small_depth) std::memset(x_small, 0, sizeof(x_small));
  const std::size_t block_bytes = static_cast<std::size_t>(gk) * 32;
  for (int m0 = 0; m0 < m_rows; m0 += kRows) {
    const std::int8_t* xr[kRows];
    for (int i = 0; i < kRows; ++i) {
      const int m = m0 + i < m_rows ? m0 + i : m_rows - 1;
      xr[i] = c.x + static_cast<std::size_t>(m) * k;
      if (small_depth) std::memcpy(x_small[i], xr[i], static_cast<std::size_t>(k));
    }
    const int rows = m_rows - m0 < kRows ? m_rows - m0 : kRows;
    for (int n0 = 0; n0 < np; n0 += kBlock) {
      const std::int8_t* wp = packed + static_cast<std::size_t>(n0 / kBlock) * block_bytes;
      Tile t;
      for (int i = 0; i < kRows; ++i) t.lo[i] = t.hi[i] = vdupq_n_s32(0);
      int8x16_t x[kRows] = {};
      int remaining_groups;
      if (small_depth) {
        for (int i = 0; i < kRows; ++i) x[i] = vld1q_s8(x_small[i]);
        remaining_groups = gk;
      } else {
        for (int kk = 0; kk < k_main; kk += 16, wp += 128) {
          for (int i = 0; i < kRows; ++i) x[i] = vld1q_s8(xr[i] + kk);
          group<0>(t, x, wp);
          group<1>(t, x, wp + 32);
          group<2>(t, x, wp + 64);
          group<3>(t, x, wp + 96);
        }
        remaining_groups = tail_groups;
        if (tail > 0)
          for (int i = 0; i < kRows; ++i) {
            const uint8x16_t last16 = vld1q_u8(reinterpret_cast<const std::uint8_t*>(xr[i] + k - 16));
            x[i] = vreinterpretq_s8_u8(vqtbl1q_u8(last16, tail_index));
          }
      }
      if (remaining_groups > 0) group<0>(t, x, wp);
      if (remaining_groups > 1) group<1>(t, x, wp + 32);
      if (remaining_groups > 2) group<2>(t, x, wp + 64);
      if (remaining_groups > 3) group<3>(t, x, wp + 96);
      // Requantize and store: 8 channels (fewer in the last block) of each pixel of the tile.
      const int32x4_t init_lo = vld1q_s32(init + n0), init_hi = vld1q_s32(init + n0 + 4);
      const Requant4 q_lo = requant4(rq.multipliers + n0, rq.shifts + n0);
      const Requant4 q_hi = requant4(rq.multipliers + n0 + 4, rq.shifts + n0 + 4);
      const int channels = n - n0 < kBlock ? n - n0 : kBlock;
      for (int i = 0; i < kRows; ++i) {
        if (i >= rows) break;
        const int8x8_t bytes = narrow8(requantize(vaddq_s32(t.lo[i], init_lo), q_lo, out),
                                       requantize(vaddq_s32(t.hi[i], init_hi), q_hi, out));
        std::int8_t* y = c.y + static_cast<std::size_t>(m0 + i) * n + n0;
        if (channels == kBlock) {
          vst1_s8(y, bytes);
        } else {
          alignas(8) std::int8_t tmp[8];
          vst1_s8(tmp, bytes);
          std::memcpy(y, tmp, static_cast<std::size_t>(channels));
        }
      }
    }
  }
}

#if !defined(__clang__)
#pragma GCC pop_options
#endif

}  // namespace micronet_ad::kernels::neon
#endif  // __aarch64__
