// depthwise_conv2d kernels of the mve level (Cortex-M55/M85 Helium).
//
// depthwise_s8_mve_4ch: depth multiplier 1, any filter of at most 9 taps, any stride and padding
// (no dilation). Lanes are four neighbouring channels (VLDRB.S32 widens four bytes; Helium has no
// lane-wise integer multiply-accumulate, so a tap is VMUL + VADD). Channel groups are the outer
// loop: each group's weights are widened once per call into a table on the stack (one VLDRW per
// tap after that), with its start values and requantization vectors; then every output pixel
// of the call (one output row under band fusion) costs two loads, a multiply and an add per tap
// (3x3 windows in asm, 44 instructions) and one requantization (asm, 15).
// A window inside the input starts from bias + o·Σw and adds x·w per tap; a window whose first or
// last row is outside starts from bias + o·Σ(w of the two rows inside); any other window with
// taps outside starts from the bias and adds (x + o)·w per tap inside: Σ_valid (x + o)·w + bias
// every way, modulo 2^32.
#include "kernels/level.h"

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)

#include "kernels/arm_mve/mve.h"

namespace micronet_ad::kernels::mve {
namespace {

constexpr int kMaxTaps = 9;  // weights widened on the stack: 9 · 16 bytes

bool accepts_depthwise(const ConvGeometry& g) {
  return g.depth_multiplier == 1 && g.in_c == g.out_c && g.dilation_h == 1 && g.dilation_w == 1 && g.batches >= 1 &&
         g.in_c >= 1 && g.filter_h >= 1 && g.filter_w >= 1 && g.filter_h * g.filter_w <= kMaxTaps;
}

// A group of four channels: widened weights per tap, start value and requantization vectors.
// (Plain int32 arrays, not int32x4_t: a 16-byte-aligned type would make GCC realign the stack
// frame; VLDRW needs only word alignment.)
struct Group {
  std::int32_t w[kMaxTaps][4];
  std::int32_t init[4];  // bias + input_offset·Σw: the start value of a window inside the input
  std::int32_t bias[4];  // the start value of a window with taps outside, which adds (x + o)·w per valid tap
  std::int32_t multiplier[4], left_shift[4], right_shift[4], sign_shift[4];  // as mve::VectorRequant
  std::int32_t lo[4], hi[4];  // the activation clamp (requantize_store4 loads them after the shifts)
};

void make_group(const ConvCall& call, int c0, mve_pred16_t lanes, Group* grp) {
  const ConvGeometry& g = *call.g;
  const Requantization& rq = *call.rq;
  vstrwq_s32(grp->lo, vdupq_n_s32(rq.act_min));
  vstrwq_s32(grp->hi, vdupq_n_s32(rq.act_max));
  const int taps = g.filter_h * g.filter_w, c = g.out_c;
  int32x4_t sum = vdupq_n_s32(0);
  for (int t = 0; t < taps; ++t) {
    const int32x4_t w = vldrbq_z_s32(call.w + t * c + c0, lanes);
    vstrwq_s32(grp->w[t], w);
    sum = vaddq_s32(sum, w);
  }
  const int32x4_t bias = call.bias != nullptr ? vldrwq_z_s32(call.bias + c0, lanes) : vdupq_n_s32(0);
  vstrwq_s32(grp->bias, bias);
  vstrwq_s32(grp->init, vmlaq_n_s32(bias, sum, rq.input_offset));  // wraps like quant::wrapping_add
  const int32x4_t shift = vldrwq_z_s32(rq.shifts + c0, lanes);
  vstrwq_s32(grp->multiplier, vldrwq_z_s32(rq.multipliers + c0, lanes));
  vstrwq_s32(grp->left_shift, vmaxq_s32(shift, vdupq_n_s32(0)));
  vstrwq_s32(grp->right_shift, vminq_s32(shift, vdupq_n_s32(0)));
  // −31 where shift < 0 (rounding happens), else −32 (see mve::ChannelRequant).
  vstrwq_s32(grp->sign_shift,
             vaddq_s32(vdupq_n_s32(-32), vreinterpretq_s32_u32(vshrq_n_u32(vreinterpretq_u32_s32(shift), 31))));
}

inline VectorRequant vector_requant(const Group& grp) {
  return VectorRequant{vldrwq_s32(grp.multiplier), vldrwq_s32(grp.left_shift), vldrwq_s32(grp.right_shift),
                       vldrwq_s32(grp.sign_shift)};
}

// One tap: x widened (VLDRB.S32 wants a low base register), times the tap's widened weights
// from the group, added to acc. GCC schedules the intrinsics of nine taps into spills.
#define MVE_DW_TAP(X, T)             \
  "vldrb.s32 %q[x], [%[" #X          \
  "]]\n\t"                           \
  "vldrw.u32 %q[w], [%[grp], #" #T   \
  "*16]\n\t"                         \
  "vmul.i32 %q[x], %q[x], %q[w]\n\t" \
  "vadd.i32 %q[acc], %q[acc], %q[x]\n\t"

// One output pixel of a group: acc + the taps of kRows (3, or 2 at the input's top or bottom)
// window rows of a 3x3 filter, x at the first row's first tap, w at its first tap's weights
// (grp.w row). 14·kRows + 2 instructions.
template <int kRows>
inline int32x4_t window_3x3(int32x4_t acc, const std::int8_t* x, int c, int row_bytes, const std::int32_t* w) {
  int32x4_t xv, wv;
  const std::int8_t *x0 = x, *x1, *x2;
  if constexpr (kRows == 3) {
    asm("add %[x1], %[x0], %[c]\n\t"
        "add %[x2], %[x1], %[c]\n\t"
        MVE_DW_TAP(x0, 0) MVE_DW_TAP(x1, 1) MVE_DW_TAP(x2, 2)
        "add %[x0], %[x0], %[rb]\n\t"
        "add %[x1], %[x1], %[rb]\n\t"
        "add %[x2], %[x2], %[rb]\n\t"
        MVE_DW_TAP(x0, 3) MVE_DW_TAP(x1, 4) MVE_DW_TAP(x2, 5)
        "add %[x0], %[x0], %[rb]\n\t"
        "add %[x1], %[x1], %[rb]\n\t"
        "add %[x2], %[x2], %[rb]\n\t"
        MVE_DW_TAP(x0, 6) MVE_DW_TAP(x1, 7) MVE_DW_TAP(x2, 8)
        : [acc] "+w"(acc), [x] "=&w"(xv), [w] "=&w"(wv), [x0] "+l"(x0), [x1] "=&l"(x1), [x2] "=&l"(x2)
        : [grp] "r"(w), [c] "r"(c), [rb] "r"(row_bytes), "m"(*(const std::int32_t(*)[36])w)
        : "memory");
  } else {
    asm("add %[x1], %[x0], %[c]\n\t"
        "add %[x2], %[x1], %[c]\n\t"
        MVE_DW_TAP(x0, 0) MVE_DW_TAP(x1, 1) MVE_DW_TAP(x2, 2)
        "add %[x0], %[x0], %[rb]\n\t"
        "add %[x1], %[x1], %[rb]\n\t"
        "add %[x2], %[x2], %[rb]\n\t"
        MVE_DW_TAP(x0, 3) MVE_DW_TAP(x1, 4) MVE_DW_TAP(x2, 5)
        : [acc] "+w"(acc), [x] "=&w"(xv), [w] "=&w"(wv), [x0] "+l"(x0), [x1] "=&l"(x1), [x2] "=&l"(x2)
        : [grp] "r"(w), [c] "r"(c), [rb] "r"(row_bytes), "m"(*(const std::int32_t(*)[24])w)
        : "memory");
  }
  return acc;
}

#undef MVE_DW_TAP

// A window with taps outside the input: bias + Σ (x + o)·w over the taps inside.
inline int32x4_t window_edge(const ConvGeometry& g, const Group& grp, const std::int8_t* image, int iy0, int ix0,
                             int c0, mve_pred16_t lanes, std::int32_t input_offset) {
  const int c = g.in_c;
  const int fy0 = iy0 < 0 ? -iy0 : 0, fy1 = g.in_h - iy0 < g.filter_h ? g.in_h - iy0 : g.filter_h;
  const int fx0 = ix0 < 0 ? -ix0 : 0, fx1 = g.in_w - ix0 < g.filter_w ? g.in_w - ix0 : g.filter_w;
  int32x4_t acc = vldrwq_s32(grp.bias);
  for (int fy = fy0; fy < fy1; ++fy) {
    const std::int8_t* x = image + ((iy0 + fy) * g.in_w + ix0 + fx0) * c + c0;
    const std::int32_t* w = grp.w[fy * g.filter_w + fx0];
    for (int fx = fx0; fx < fx1; ++fx, x += c, w += 4) {
      acc = vaddq_s32(acc, vmulq_s32(vaddq_n_s32(vldrbq_z_s32(x, lanes), input_offset), vldrwq_s32(w)));
    }
  }
  return acc;
}

// requantize(acc, q, ...) stored as four bytes at y: the parameters loaded from q with immediate
// offsets (GCC keeps them on the stack and rebuilds each address).
inline void requantize_store4(int32x4_t acc, const Group* grp, std::int32_t output_offset, std::int8_t* y) {
  const std::int32_t* q = grp->multiplier;
  int32x4_t p, n;
  asm volatile(
      "vldrw.u32 %q[p], [%[q], #16]\n\t"  // left_shift
      "vshl.s32 %q[v], %q[v], %q[p]\n\t"
      "vldrw.u32 %q[p], [%[q], #0]\n\t"  // multiplier
      "vqrdmulh.s32 %q[v], %q[v], %q[p]\n\t"
      "vldrw.u32 %q[p], [%[q], #48]\n\t"  // sign_shift
      "vshl.u32 %q[n], %q[v], %q[p]\n\t"
      "vqsub.s32 %q[v], %q[v], %q[n]\n\t"
      "vldrw.u32 %q[p], [%[q], #32]\n\t"  // right_shift
      "vrshl.s32 %q[v], %q[v], %q[p]\n\t"
      "vadd.i32 %q[v], %q[v], %[off]\n\t"
      "vldrw.u32 %q[p], [%[q], #64]\n\t"  // Group::lo
      "vmax.s32 %q[v], %q[v], %q[p]\n\t"
      "vldrw.u32 %q[p], [%[q], #80]\n\t"  // Group::hi
      "vmin.s32 %q[v], %q[v], %q[p]\n\t"
      "vstrb.32 %q[v], [%[y]]"
      : [v] "+w"(acc), [p] "=&w"(p), [n] "=&w"(n)
      : [q] "r"(q), [off] "r"(output_offset), [y] "l"(y), "m"(*grp)
      : "memory");
}

void run_depthwise(const ConvCall& call) {
  const ConvGeometry& g = *call.g;
  const Requantization& rq = *call.rq;
  const int c = g.out_c, row_bytes = g.in_w * c;
  const std::int32_t output_offset = rq.output_offset;
  // Output columns whose 3x3 windows lie inside the input horizontally: [ox_lo, ox_hi).
  const bool is_3x3 = g.filter_h == 3 && g.filter_w == 3;
  const int ox_lo = (g.pad_left + g.stride_w - 1) / g.stride_w;
  int ox_hi = g.in_w + g.pad_left >= 3 ? (g.in_w + g.pad_left - 3) / g.stride_w + 1 : 0;
  if (ox_hi > g.out_w) ox_hi = g.out_w;
  if (!is_3x3 || ox_hi < ox_lo) ox_hi = ox_lo;
  Group grp;
  for (int c0 = 0; c0 < c; c0 += 4) {
    const mve_pred16_t lanes = vctp32q(c - c0);
    const bool whole = c - c0 >= 4;
    make_group(call, c0, lanes, &grp);
    for (int b = 0; b < g.batches; ++b) {
      const std::int8_t* image = call.x + b * g.in_h * row_bytes;
      std::int8_t* y_row = call.y + b * g.out_h * g.out_w * c + c0;
      for (int oy = 0; oy < g.out_h; ++oy, y_row += g.out_w * c) {
        const int iy0 = oy * g.stride_h - g.pad_top;
        const bool rows_inside = is_3x3 && whole && iy0 >= 0 && iy0 + 3 <= g.in_h;
        // Exactly one of the three window rows outside the input (a band's or the image's edge).
        const bool two_rows = is_3x3 && whole && g.in_h >= 2 && ((iy0 == -1) || (iy0 >= 0 && iy0 + 2 == g.in_h));
        const int lo = rows_inside || two_rows ? ox_lo : g.out_w, hi = rows_inside || two_rows ? ox_hi : g.out_w;
        auto edge = [&](int ox) __attribute__((always_inline)) {
          const int32x4_t acc =
              window_edge(g, grp, image, iy0, ox * g.stride_w - g.pad_left, c0, lanes, rq.input_offset);
          if (whole) {
            requantize_store4(acc, &grp, output_offset, y_row + ox * c);
          } else {
            vstrbq_p_s32(y_row + ox * c, requantize(acc, vector_requant(grp), output_stage(rq)), lanes);
          }
        };
        int ox = 0;
        for (; ox < lo; ++ox) edge(ox);
        const std::int8_t* x = image + (iy0 * g.in_w + ox * g.stride_w - g.pad_left) * c + c0;
        std::int8_t* y = y_row + ox * c;
        if (rows_inside) {
          const int32x4_t init = vldrwq_s32(grp.init);
          for (; ox < hi; ++ox, x += g.stride_w * c, y += c) {
            requantize_store4(window_3x3<3>(init, x, c, row_bytes, grp.w[0]), &grp, output_offset, y);
          }
        } else if (two_rows) {
          // The window's first or last row lies outside the input: two rows, from the bias plus
          // the offset term of their taps only.
          const int fy0 = iy0 < 0 ? 1 : 0;
          const std::int32_t* w = grp.w[3 * fy0];
          int32x4_t w_sum = vldrwq_s32(w);
          for (int t = 1; t < 6; ++t) w_sum = vaddq_s32(w_sum, vldrwq_s32(w + 4 * t));
          const int32x4_t start = vmlaq_n_s32(vldrwq_s32(grp.bias), w_sum, rq.input_offset);
          x += fy0 * row_bytes;
          for (; ox < hi; ++ox, x += g.stride_w * c, y += c) {
            requantize_store4(window_3x3<2>(start, x, c, row_bytes, w), &grp, output_offset, y);
          }
        }
        for (; ox < g.out_w; ++ox) edge(ox);
      }
    }
  }
}

}  // namespace

const ConvKernel kDepthwiseKernels[kDepthwiseKernelCount] = {
    {"depthwise_s8_mve_4ch", accepts_depthwise, run_depthwise, nullptr, nullptr, nullptr},
};

}  // namespace micronet_ad::kernels::mve

#endif
