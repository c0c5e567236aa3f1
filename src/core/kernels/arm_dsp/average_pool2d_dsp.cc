// average_pool2d kernel of the dsp level: four channels per input word, summed in halfword
// lanes by SXTAB16 (exact while a window has at most 256 taps: |sum| ≤ 256·128 fits an int16
// lane), then divided per channel rounding half away from zero, as the reference does.
#if defined(__ARM_FEATURE_DSP)

#include "kernels/arm_dsp/dsp.h"
#include "kernels/geometry.h"
#include "kernels/reference/reference.h"

namespace micronet_ad::kernels::dsp {
namespace {

inline std::int32_t rounded_average(std::int32_t sum, std::int32_t count, std::int32_t act_min, std::int32_t act_max) {
  std::int32_t avg = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
  return avg < act_min ? act_min : (avg > act_max ? act_max : avg);
}

}  // namespace

bool accepts_average_pool(const PoolGeometry& g) {
  return g.filter_h * g.filter_w <= 256 && g.act_min <= g.act_max && g.act_min >= -128 && g.act_max <= 127;
}

void run_average_pool(const PoolGeometry& g, const std::int8_t* x, std::int8_t* y) {
  const int channels = g.channels;
  for (int b = 0; b < g.batches; ++b) {
    for (int oy = 0; oy < g.out_h; ++oy) {
      const WindowSpan wy = window_span(oy, g.stride_h, g.pad_top, g.filter_h, g.in_h);
      for (int ox = 0; ox < g.out_w; ++ox) {
        const WindowSpan wx = window_span(ox, g.stride_w, g.pad_left, g.filter_w, g.in_w);
        const std::int32_t count = (wy.end - wy.begin) * (wx.end - wx.begin);
        auto in_at = [&](int fy, int fx, int c) {
          return x + ((b * g.in_h + wy.start + fy) * g.in_w + wx.start + fx) * channels + c;
        };
        std::int8_t* out = y + ((b * g.out_h + oy) * g.out_w + ox) * channels;
        int c = 0;
        for (; c + 4 <= channels; c += 4) {
          std::int32_t even = 0, odd = 0;  // halfword lanes: (c0, c2) and (c1, c3)
          for (int fy = wy.begin; fy < wy.end; ++fy) {
            for (int fx = wx.begin; fx < wx.end; ++fx) {
              const std::uint32_t v = load32(in_at(fy, fx, c));
              even = sxtab16_even(even, v);
              odd = sxtab16_odd(odd, v);
            }
          }
          const std::int32_t sums[4] = {static_cast<std::int16_t>(even), static_cast<std::int16_t>(odd), even >> 16,
                                        odd >> 16};
          for (int k = 0; k < 4; ++k)
            out[c + k] = static_cast<std::int8_t>(rounded_average(sums[k], count, g.act_min, g.act_max));
        }
        for (; c < channels; ++c) {
          std::int32_t sum = 0;
          for (int fy = wy.begin; fy < wy.end; ++fy) {
            for (int fx = wx.begin; fx < wx.end; ++fx) sum += *in_at(fy, fx, c);
          }
          out[c] = static_cast<std::int8_t>(rounded_average(sum, count, g.act_min, g.act_max));
        }
      }
    }
  }
}

}  // namespace micronet_ad::kernels::dsp

#endif  // __ARM_FEATURE_DSP
