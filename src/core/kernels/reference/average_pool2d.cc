#include "kernels/geometry.h"
#include "kernels/reference/reference.h"

namespace micronet_ad::kernels::reference {

// int8 average pooling: sum the window's in-image values, divide by their count rounding half
// away from zero, clamp. Input and output share scale and zero point, so there is no rescale.
void average_pool2d(const PoolGeometry& g, const std::int8_t* input, std::int8_t* output) {
  for (int b = 0; b < g.batches; ++b) {
    for (int oy = 0; oy < g.out_h; ++oy) {
      const WindowSpan wy = window_span(oy, g.stride_h, g.pad_top, g.filter_h, g.in_h);
      const int in_y0 = wy.start, fy_begin = wy.begin, fy_end = wy.end;
      for (int ox = 0; ox < g.out_w; ++ox) {
        const WindowSpan wx = window_span(ox, g.stride_w, g.pad_left, g.filter_w, g.in_w);
        const int in_x0 = wx.start, fx_begin = wx.begin, fx_end = wx.end;
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
