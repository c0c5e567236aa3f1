// AArch64 NEON depthwise 3x3 convolution (depth multiplier 1, any stride and padding), for both
// the `neon` and `neon_dotprod` rows (SDOT does not help here: there is no sum across channels).
// Lanes are 8 channels: the chunk's 9 taps of weights are widened to int16 once per call and
// stay in registers while the chunk runs over every output pixel; per tap one 8-byte load, SADDW
// (x + input offset in int16: |x + offset| ≤ 255), SMLAL and SMLAL2 onto the bias. Windows cut by
// the padding read the input zero point for their taps outside (x + offset = 0: nothing, like the
// reference's skip). Channel counts that are not a multiple of 8 end with a chunk overlapping the
// previous one (its channels are recomputed to the same bytes); fewer than 8 channels stay on the
// reference kernel. Weights and bias are read in place; nothing is packed.
#if defined(__aarch64__)
#include "kernels/arm_neon/neon.h"
#include "kernels/reference/taps.h"

namespace micronet_ad::kernels::neon {

bool accepts_depthwise3x3(const ConvGeometry& g) {
  return g.filter_h == 3 && g.filter_w == 3 && g.depth_multiplier == 1 && g.dilation_h == 1 && g.dilation_w == 1 &&
         g.in_c >= 8 && g.out_c == g.in_c;
}

namespace {
struct Acc {
  int32x4_t lo, hi;
};

inline void tap(Acc& a, const std::int8_t* x, int16x8_t offset, int16x8_t w) {
  const int16x8_t xo = vaddw_s8(offset, vld1_s8(x));
  a.lo = vmlal_s16(a.lo, vget_low_s16(xo), vget_low_s16(w));
  a.hi = vmlal_high_s16(a.hi, xo, w);
}
}  // namespace

void run_depthwise3x3(const ConvCall& c) {
  const ConvGeometry& g = *c.g;
  const Requantization& rq = *c.rq;
  const OutputStage out = output_stage(rq);
  const int ch = g.in_c;
  const int16x8_t offset = vdupq_n_s16(static_cast<std::int16_t>(rq.input_offset));
  const std::size_t row_stride = static_cast<std::size_t>(g.in_w) * ch;
  alignas(8) std::int8_t zero_point[8];  // the input zero point, −offset (in −128..127)
  for (std::int8_t& z : zero_point) z = static_cast<std::int8_t>(-rq.input_offset);
  for (int c0 = 0; c0 < ch; c0 += 8) {
    if (c0 + 8 > ch) c0 = ch - 8;  // the overlapping last chunk
    int16x8_t w[9];
    for (int t = 0; t < 9; ++t) w[t] = vmovl_s8(vld1_s8(c.w + t * ch + c0));
    const int32x4_t bias_lo = c.bias != nullptr ? vld1q_s32(c.bias + c0) : vdupq_n_s32(0);
    const int32x4_t bias_hi = c.bias != nullptr ? vld1q_s32(c.bias + c0 + 4) : vdupq_n_s32(0);
    const Requant4 q_lo = requant4(rq.multipliers + c0, rq.shifts + c0);
    const Requant4 q_hi = requant4(rq.multipliers + c0 + 4, rq.shifts + c0 + 4);
    // Output columns whose window lies inside the input: [ox_lo, ox_hi).
    const int ox_lo = (g.pad_left + g.stride_w - 1) / g.stride_w;
    const int last = g.in_w - 3 + g.pad_left;  // ox·stride ≤ last
    int ox_hi = last >= 0 ? last / g.stride_w + 1 : 0;
    if (ox_hi > g.out_w) ox_hi = g.out_w;
    const std::size_t x_step = static_cast<std::size_t>(g.stride_w) * ch;
    for (int b = 0; b < g.batches; ++b) {
      const std::int8_t* xb = c.x + static_cast<std::size_t>(b) * g.in_h * row_stride + c0;
      std::int8_t* yb = c.y + static_cast<std::size_t>(b) * g.out_h * g.out_w * ch + c0;
      for (int oy = 0; oy < g.out_h; ++oy) {
        const int in_y0 = oy * g.stride_h - g.pad_top;
        const reference::TapRange ty = reference::tap_range(in_y0, 3, 1, g.in_h);
        std::int8_t* yrow = yb + static_cast<std::size_t>(oy) * g.out_w * ch;
        // A window cut by the padding: its taps outside the input read `zero_point` instead, whose
        // x + offset is 0 (the reference skips them: the same sum).
        auto edge = [&](int ox) {
          const int in_x0 = ox * g.stride_w - g.pad_left;
          const std::int8_t* px[9];
          for (int fy = 0; fy < 3; ++fy)
            for (int fx = 0; fx < 3; ++fx) {
              const int iy = in_y0 + fy, ix = in_x0 + fx;
              px[fy * 3 + fx] = iy >= 0 && iy < g.in_h && ix >= 0 && ix < g.in_w
                                    ? xb + static_cast<std::size_t>(iy) * row_stride + static_cast<std::size_t>(ix) * ch
                                    : zero_point;
            }
          Acc a{bias_lo, bias_hi};
          tap(a, px[0], offset, w[0]);
          tap(a, px[1], offset, w[1]);
          tap(a, px[2], offset, w[2]);
          tap(a, px[3], offset, w[3]);
          tap(a, px[4], offset, w[4]);
          tap(a, px[5], offset, w[5]);
          tap(a, px[6], offset, w[6]);
          tap(a, px[7], offset, w[7]);
          tap(a, px[8], offset, w[8]);
          vst1_s8(yrow + static_cast<std::size_t>(ox) * ch,
                  narrow8(requantize(a.lo, q_lo, out), requantize(a.hi, q_hi, out)));
        };
        const bool full_rows = ty.begin == 0 && ty.end == 3;
        const int lo = full_rows ? ox_lo : g.out_w, hi = full_rows ? ox_hi : g.out_w;
        int ox = 0;
        for (; ox < lo && ox < g.out_w; ++ox) edge(ox);
        if (ox < hi) {
          const std::int8_t* x0 = xb + static_cast<std::size_t>(in_y0) * row_stride +
                                  static_cast<std::size_t>(ox * g.stride_w - g.pad_left) * ch;
          std::int8_t* y = yrow + static_cast<std::size_t>(ox) * ch;
          for (; ox < hi; ++ox, x0 += x_step, y += ch) {
            const std::int8_t* x1 = x0 + row_stride;
            const std::int8_t* x2 = x1 + row_stride;
            Acc a{bias_lo, bias_hi};
            tap(a, x0, offset, w[0]);
            tap(a, x0 + ch, offset, w[1]);
            tap(a, x0 + 2 * ch, offset, w[2]);
            tap(a, x1, offset, w[3]);
            tap(a, x1 + ch, offset, w[4]);
            tap(a, x1 + 2 * ch, offset, w[5]);
            tap(a, x2, offset, w[6]);
            tap(a, x2 + ch, offset, w[7]);
            tap(a, x2 + 2 * ch, offset, w[8]);
            vst1_s8(y, narrow8(requantize(a.lo, q_lo, out), requantize(a.hi, q_hi, out)));
          }
        }
        for (; ox < g.out_w; ++ox) edge(ox);
      }
    }
  }
}

}  // namespace micronet_ad::kernels::neon
#endif  // __aarch64__
