#include "kernels/reference/reference.h"
#include "kernels/reference/taps.h"
#include "quant/quantization.h"

namespace micronet_ad::kernels::reference {

// Taps outside the input are skipped (padding contributes (zp − zp)·w = 0); the valid tap ranges
// depend only on the output position, so they are found once per output pixel. With a depth
// multiplier of 1, channels go four at a time (they are adjacent in the input and the filter).
void depthwise_conv2d(const ConvGeometry& g, const Requantization& rq, const std::int8_t* input,
                      const std::int8_t* filter, const std::int32_t* bias, std::int8_t* output) {
  const int in_c = g.in_c, out_c = g.out_c, dm = g.depth_multiplier;
  const std::int32_t input_offset = rq.input_offset;
  const int x_step = g.dilation_w * in_c;  // from one tap's input to the next along a row
  for (int b = 0; b < g.batches; ++b) {
    for (int oy = 0; oy < g.out_h; ++oy) {
      const int in_y0 = oy * g.stride_h - g.pad_top;
      const TapRange ty = tap_range(in_y0, g.filter_h, g.dilation_h, g.in_h);
      for (int ox = 0; ox < g.out_w; ++ox) {
        const int in_x0 = ox * g.stride_w - g.pad_left;
        const TapRange tx = tap_range(in_x0, g.filter_w, g.dilation_w, g.in_w);
        std::int8_t* out = output + ((b * g.out_h + oy) * g.out_w + ox) * out_c;
        // Input channel ic at the first valid tap of window row fy, and output channel oc's weight there.
        auto in_at = [&](int fy, int ic) {
          return input + ((b * g.in_h + in_y0 + fy * g.dilation_h) * g.in_w + in_x0 + tx.begin * g.dilation_w) * in_c +
                 ic;
        };
        auto w_at = [&](int fy, int oc) { return filter + (fy * g.filter_w + tx.begin) * out_c + oc; };
        auto store = [&](int oc, std::int32_t acc) {
          out[oc] = quant::requantize(acc, bias != nullptr ? bias[oc] : 0, rq.multipliers[oc], rq.shifts[oc],
                                      rq.output_offset, rq.act_min, rq.act_max);
        };
        int ic = 0;
        if (dm == 1) {
          for (; ic + 4 <= in_c; ic += 4) {
            std::int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
            for (int fy = ty.begin; fy < ty.end; ++fy) {
              const std::int8_t* x = in_at(fy, ic);
              const std::int8_t* w = w_at(fy, ic);
              for (int fx = tx.begin; fx < tx.end; ++fx, x += x_step, w += out_c) {
                a0 += (static_cast<std::int32_t>(x[0]) + input_offset) * w[0];
                a1 += (static_cast<std::int32_t>(x[1]) + input_offset) * w[1];
                a2 += (static_cast<std::int32_t>(x[2]) + input_offset) * w[2];
                a3 += (static_cast<std::int32_t>(x[3]) + input_offset) * w[3];
              }
            }
            store(ic, a0);
            store(ic + 1, a1);
            store(ic + 2, a2);
            store(ic + 3, a3);
          }
        }
        for (; ic < in_c; ++ic) {
          for (int m = 0; m < dm; ++m) {
            const int oc = ic * dm + m;
            std::int32_t acc = 0;
            for (int fy = ty.begin; fy < ty.end; ++fy) {
              const std::int8_t* x = in_at(fy, ic);
              const std::int8_t* w = w_at(fy, oc);
              for (int fx = tx.begin; fx < tx.end; ++fx, x += x_step, w += out_c) {
                acc += (static_cast<std::int32_t>(*x) + input_offset) * *w;
              }
            }
            store(oc, acc);
          }
        }
      }
    }
  }
}

}  // namespace micronet_ad::kernels::reference
