#include "kernels/reference/reference.h"
#include "quant/quantization.h"

namespace micronet_ad::kernels::reference {

void conv2d(const ConvGeometry& g, const Requantization& rq, const std::int8_t* input,
            const std::int8_t* filter, const std::int32_t* bias, std::int8_t* output) {
  for (int b = 0; b < g.batches; ++b) {
    for (int oy = 0; oy < g.out_h; ++oy) {
      const int in_y0 = oy * g.stride_h - g.pad_top;
      for (int ox = 0; ox < g.out_w; ++ox) {
        const int in_x0 = ox * g.stride_w - g.pad_left;
        for (int oc = 0; oc < g.out_c; ++oc) {
          std::int32_t acc = 0;
          for (int fy = 0; fy < g.filter_h; ++fy) {
            const int iy = in_y0 + fy * g.dilation_h;
            if (iy < 0 || iy >= g.in_h) continue;  // padding contributes (zp − zp)·w = 0
            for (int fx = 0; fx < g.filter_w; ++fx) {
              const int ix = in_x0 + fx * g.dilation_w;
              if (ix < 0 || ix >= g.in_w) continue;
              const std::int8_t* in = input + ((b * g.in_h + iy) * g.in_w + ix) * g.in_c;
              const std::int8_t* w = filter + ((oc * g.filter_h + fy) * g.filter_w + fx) * g.in_c;
              for (int ic = 0; ic < g.in_c; ++ic) {
                acc += (static_cast<std::int32_t>(in[ic]) + rq.input_offset) * w[ic];
              }
            }
          }
          output[((b * g.out_h + oy) * g.out_w + ox) * g.out_c + oc] = quant::requantize(
              acc, bias != nullptr ? bias[oc] : 0, rq.multipliers[oc], rq.shifts[oc], rq.output_offset,
              rq.act_min, rq.act_max);
        }
      }
    }
  }
}

}  // namespace micronet_ad::kernels::reference
