#include "kernels/reference/reference.h"
#include "kernels/reference/taps.h"
#include "quant/quantization.h"

namespace micronet_ad::kernels::reference {

namespace {

// acc[k] += Σ_i (x[i] + input_offset) · w[k·w_stride + i] for the four output channels k = 0..3:
// each input byte is loaded and offset once for all four.
inline void dot4(const std::int8_t* x, const std::int8_t* w, int w_stride, int n, std::int32_t input_offset,
                 std::int32_t acc[4]) {
  const std::int8_t* w0 = w;
  const std::int8_t* w1 = w0 + w_stride;
  const std::int8_t* w2 = w1 + w_stride;
  const std::int8_t* w3 = w2 + w_stride;
  std::int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
  for (int i = 0; i < n; ++i) {
    const std::int32_t xi = static_cast<std::int32_t>(x[i]) + input_offset;
    a0 += xi * w0[i];
    a1 += xi * w1[i];
    a2 += xi * w2[i];
    a3 += xi * w3[i];
  }
  acc[0] = a0;
  acc[1] = a1;
  acc[2] = a2;
  acc[3] = a3;
}

inline std::int32_t dot1(const std::int8_t* x, const std::int8_t* w, int n, std::int32_t input_offset) {
  std::int32_t acc = 0;
  for (int i = 0; i < n; ++i) acc += (static_cast<std::int32_t>(x[i]) + input_offset) * w[i];
  return acc;
}

}  // namespace

// Taps outside the input are skipped: padding contributes (zp − zp)·w = 0. The valid tap ranges
// depend only on the output position, so they are found once per output pixel, and output
// channels go four at a time. Any summation order gives the same int32 sums.
void conv2d(const ConvGeometry& g, const Requantization& rq, const std::int8_t* input, const std::int8_t* filter,
            const std::int32_t* bias, std::int8_t* output) {
  const int in_c = g.in_c, out_c = g.out_c;
  const int filter_stride = g.filter_h * g.filter_w * in_c;  // one output channel's weights
  const std::int32_t input_offset = rq.input_offset;
  for (int b = 0; b < g.batches; ++b) {
    for (int oy = 0; oy < g.out_h; ++oy) {
      const int in_y0 = oy * g.stride_h - g.pad_top;
      const TapRange ty = tap_range(in_y0, g.filter_h, g.dilation_h, g.in_h);
      for (int ox = 0; ox < g.out_w; ++ox) {
        const int in_x0 = ox * g.stride_w - g.pad_left;
        const TapRange tx = tap_range(in_x0, g.filter_w, g.dilation_w, g.in_w);
        // Undilated, a window row's valid taps are contiguous in the input and in the filter
        // alike: one dot product of fx_step · in_c bytes covers them.
        const int fx_step = g.dilation_w == 1 && tx.end > tx.begin ? tx.end - tx.begin : 1;
        const int n = fx_step * in_c;
        std::int8_t* out = output + ((b * g.out_h + oy) * g.out_w + ox) * out_c;
        // The input pixel of tap (fy, fx) and its weights for output channel oc.
        auto in_at = [&](int fy, int fx) {
          return input + ((b * g.in_h + in_y0 + fy * g.dilation_h) * g.in_w + in_x0 + fx * g.dilation_w) * in_c;
        };
        auto w_at = [&](int oc, int fy, int fx) { return filter + ((oc * g.filter_h + fy) * g.filter_w + fx) * in_c; };
        int oc = 0;
        for (; oc + 4 <= out_c; oc += 4) {
          std::int32_t acc[4] = {0, 0, 0, 0};
          for (int fy = ty.begin; fy < ty.end; ++fy) {
            for (int fx = tx.begin; fx < tx.end; fx += fx_step) {
              dot4(in_at(fy, fx), w_at(oc, fy, fx), filter_stride, n, input_offset, acc);
            }
          }
          for (int k = 0; k < 4; ++k) {
            out[oc + k] = quant::requantize(acc[k], bias != nullptr ? bias[oc + k] : 0, rq.multipliers[oc + k],
                                            rq.shifts[oc + k], rq.output_offset, rq.act_min, rq.act_max);
          }
        }
        for (; oc < out_c; ++oc) {
          std::int32_t acc = 0;
          for (int fy = ty.begin; fy < ty.end; ++fy) {
            for (int fx = tx.begin; fx < tx.end; fx += fx_step)
              acc += dot1(in_at(fy, fx), w_at(oc, fy, fx), n, input_offset);
          }
          out[oc] = quant::requantize(acc, bias != nullptr ? bias[oc] : 0, rq.multipliers[oc], rq.shifts[oc],
                                      rq.output_offset, rq.act_min, rq.act_max);
        }
      }
    }
  }
}

}  // namespace micronet_ad::kernels::reference
