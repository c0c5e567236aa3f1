#include "kernels/reference/reference.h"

namespace micronet_ad::kernels::reference {

// int8 average pooling: sum the window's in-image values, divide by their count rounding half
// away from zero, clamp. Input and output share scale and zero point, so there is no rescale.
void average_pool2d(const PoolGeometry& g, const std::int8_t* input, std::int8_t* output) {
  for (int b = 0; b < g.batches; ++b) {
    for (int oy = 0; oy < g.out_h; ++oy) {
      const int in_y0 = oy * g.stride_h - g.pad_top;
      const int fy_begin = in_y0 < 0 ? -in_y0 : 0;
      const int fy_end = g.filter_h < g.in_h - in_y0 ? g.filter_h : g.in_h - in_y0;
      for (int ox = 0; ox < g.out_w; ++ox) {
        const int in_x0 = ox * g.stride_w - g.pad_left;
        const int fx_begin = in_x0 < 0 ? -in_x0 : 0;
        const int fx_end = g.filter_w < g.in_w - in_x0 ? g.filter_w : g.in_w - in_x0;
        for (int c = 0; c < g.channels; ++c) {
          std::int32_t sum = 0;
          int count = 0;
          for (int fy = fy_begin; fy < fy_end; ++fy) {
            for (int fx = fx_begin; fx < fx_end; ++fx) {
              sum += input[((b * g.in_h + in_y0 + fy) * g.in_w + in_x0 + fx) * g.channels + c];
              ++count;
            }
          }
          // Validation guarantees every window overlaps the image, so count > 0.
          std::int32_t avg = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
          avg = avg < g.act_min ? g.act_min : (avg > g.act_max ? g.act_max : avg);
          output[((b * g.out_h + oy) * g.out_w + ox) * g.channels + c] = static_cast<std::int8_t>(avg);
        }
      }
    }
  }
}

}  // namespace micronet_ad::kernels::reference
