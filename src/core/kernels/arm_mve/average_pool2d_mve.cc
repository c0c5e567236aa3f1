// average_pool2d kernels of the mve level (Cortex-M55/M85 Helium).
//
// avgpool_s8_mve: window sums four channels per VADD.S32 (VLDRB.S32 widens four bytes); the
// division by the window's in-image count, rounding half away from zero, stays scalar (there
// is no vector division, and it runs once per output, not per tap).
#include "kernels/level.h"

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)

#include "kernels/arm_mve/mve.h"
#include "kernels/geometry.h"

namespace micronet_ad::kernels::mve {
namespace {

bool accepts_average_pool(const PoolGeometry& g) {
  // Sums of int8 stay far inside int32 for any window a model can have.
  return g.batches >= 1 && g.channels >= 1 && g.filter_h * g.filter_w <= (1 << 20);
}

void run_average_pool(const PoolGeometry& g, const std::int8_t* x, std::int8_t* y) {
  const int c = g.channels;
  for (int b = 0; b < g.batches; ++b) {
    for (int oy = 0; oy < g.out_h; ++oy) {
      const WindowSpan wy = window_span(oy, g.stride_h, g.pad_top, g.filter_h, g.in_h);
      for (int ox = 0; ox < g.out_w; ++ox, y += c) {
        const WindowSpan wx = window_span(ox, g.stride_w, g.pad_left, g.filter_w, g.in_w);
        const std::int32_t count = (wy.end - wy.begin) * (wx.end - wx.begin);
        const std::int8_t* corner = x + ((b * g.in_h + wy.start + wy.begin) * g.in_w + wx.start + wx.begin) * c;
        for (int ch = 0; ch < c; ch += 4) {
          const mve_pred16_t lanes = vctp32q(c - ch);
          int32x4_t sum = vdupq_n_s32(0);
          const std::int8_t* row = corner + ch;
          for (int fy = wy.begin; fy < wy.end; ++fy, row += g.in_w * c) {
            const std::int8_t* tap = row;
            for (int fx = wx.begin; fx < wx.end; ++fx, tap += c) sum = vaddq_s32(sum, vldrbq_z_s32(tap, lanes));
          }
          alignas(8) std::int32_t sums[4];
          vstrwq_s32(sums, sum);
          const int n = c - ch < 4 ? c - ch : 4;
          for (int i = 0; i < n; ++i) {
            const std::int32_t s = sums[i];
            std::int32_t avg = s > 0 ? (s + count / 2) / count : (s - count / 2) / count;
            avg = avg < g.act_min ? g.act_min : (avg > g.act_max ? g.act_max : avg);
            y[ch + i] = static_cast<std::int8_t>(avg);
          }
        }
      }
    }
  }
}

}  // namespace

const PoolKernel kAveragePoolKernels[kAveragePoolKernelCount] = {
    {"avgpool_s8_mve", accepts_average_pool, run_average_pool},
};

}  // namespace micronet_ad::kernels::mve

#endif
