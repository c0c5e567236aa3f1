// depthwise_conv2d kernels of the mve level (Cortex-M55/M85 Helium).
//
// depthwise_s8_mve_8px: depth multiplier 1, any filter up to 4 rows and 25 taps, any stride and
// padding (no dilation), output rows up to a buffer's width.
// Helium has no lane-wise integer vector·vector multiply-accumulate, but VMLA multiplies a
// vector by a SCALAR: so lanes are neighbouring output pixels of ONE channel and each tap's
// weight is a scalar. Channels are the outer loop. For each output row, the channel's window
// rows are copied (VLDRB gathers at stride in_c) into a buffer on the stack, padded with the
// input zero point and split by column phase (column j = k·stride + p at p·(64/stride) + k), so
// that a tap of four neighbouring pixels is four CONSECUTIVE bytes: one VLDRB.S32 at an
// immediate offset and one VMLA, with no border cases. A padded tap reads the zero point and
// the start value bias + o·Σw makes it add (zp + o)·w = 0, so the sum is Σ_valid (x + o)·w + bias
// (mod 2^32). Four outputs share the channel's requantization (mve::requantize) and go out with
// one scatter at stride in_c. 3x3 filters of stride 1 and 2 are unrolled, eight pixels at a time.
#include "kernels/level.h"

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)

#include "kernels/arm_mve/mve.h"

namespace micronet_ad::kernels::mve {
namespace {

constexpr int kSlot = 64;      // buffer bytes per window row
constexpr int kMaxRows = 4;    // window rows (filter_h)
constexpr int kMaxTaps = 25;
constexpr int kBlock = 8;      // widest block of output pixels (two int32x4)
constexpr int kMaxStride = 4;

inline int phase_width(int stride) { return kSlot / stride; }

bool accepts_depthwise(const ConvGeometry& g) {
  if (g.depth_multiplier != 1 || g.in_c != g.out_c || g.dilation_h != 1 || g.dilation_w != 1 || g.batches < 1 ||
      g.in_c < 1 || g.filter_h > kMaxRows || g.filter_h * g.filter_w > kMaxTaps || g.stride_w < 1 ||
      g.stride_w > kMaxStride || g.pad_left < 0 || g.pad_top < 0 || 7 * g.stride_w * g.in_c > 65535)
    return false;
  // Every block's lanes (whole blocks of kBlock, the last one's extra lanes included) must fall
  // inside their phase's part of the row.
  const int blocks = (g.out_w + kBlock - 1) / kBlock;
  return blocks * kBlock + (g.filter_w - 1) / g.stride_w <= phase_width(g.stride_w);
}

// Where one input row's bytes go in a buffer row, per column phase p (independent of the row and
// the channel): column j = k·stride + p (input column j − pad_left) at p·phase_width + k, for the
// k in [k_begin, k_end) whose input column exists. Every other byte of a buffer row stays the
// input zero point, written once per call.
struct FillPlan {
  int phases;
  int source[kMaxStride];  // byte offset of the first column in the input row (channel 0)
  int target[kMaxStride];  // its offset in the buffer row
  int count[kMaxStride];   // columns
  uint16x8_t offsets;      // eight columns of a phase: i·stride·in_c
};

FillPlan fill_plan(const ConvGeometry& g) {
  FillPlan plan;
  const int s = g.stride_w, width = phase_width(s);
  plan.phases = s;
  for (int p = 0; p < s; ++p) {
    const int first = g.pad_left - p;  // k·s ≥ first
    const int k_begin = first > 0 ? (first + s - 1) / s : 0;
    const int last = g.in_w - 1 + g.pad_left - p;  // k·s ≤ last
    int k_end = last >= 0 ? last / s + 1 : 0;
    if (k_end > width) k_end = width;
    plan.source[p] = (k_begin * s + p - g.pad_left) * g.in_c;
    plan.target[p] = p * width + k_begin;
    plan.count[p] = k_end > k_begin ? k_end - k_begin : 0;
  }
  plan.offsets = vmulq_n_u16(vidupq_n_u16(0, 1), static_cast<std::uint16_t>(s * g.in_c));
  return plan;
}

// Input row `row` (channel c's first byte) into a buffer row: eight columns per gather (16-bit
// offsets), narrowed back to bytes.
void fill_row(const FillPlan& plan, int in_c, const std::int8_t* row, std::int8_t* dst) {
  for (int p = 0; p < plan.phases; ++p) {
    const std::int8_t* src = row + plan.source[p];
    std::int8_t* out = dst + plan.target[p];
    int n = plan.count[p];
    for (; n >= 8; n -= 8, src += 8 * in_c * plan.phases, out += 8) {
      vstrbq_s16(out, vldrbq_gather_offset_s16(src, plan.offsets));
    }
    if (n > 0) {
      const mve_pred16_t lanes = vctp16q(n);
      vstrbq_p_s16(out, vldrbq_gather_offset_z_s16(src, plan.offsets, lanes), lanes);
    }
  }
}

// The window rows of a channel, kept from one output row to the next: input row iy lives in
// buffer row iy mod filter_h (distinct within a window) and is gathered only when not there. A
// row outside the input is all zero point; inside, only its data columns are ever written.
class WindowRows {
 public:
  WindowRows(const ConvGeometry& g, std::int8_t zero_point) : g_(g), plan_(fill_plan(g)), zp_(vdupq_n_s8(zero_point)) {
    for (int j = 0; j < kMaxRows * kSlot; j += 16) vstrbq_s8(rows_ + j, zp_);
  }
  // Channel c of `image` (batch start): forget the rows held.
  void start_channel(const std::int8_t* image, int c) {
    image_ = image + c;
    for (int& r : held_) r = kNone;
  }
  const std::int8_t* row(int iy) {
    const int fh = g_.filter_h;
    std::int8_t* dst = rows_ + ((iy % fh) + fh) % fh * kSlot;
    int& held = held_[((iy % fh) + fh) % fh];
    if (held != iy) {
      if (iy < 0 || iy >= g_.in_h) {
        for (int j = 0; j < kSlot; j += 16) vstrbq_s8(dst + j, zp_);
      } else {
        fill_row(plan_, g_.in_c, image_ + iy * g_.in_w * g_.in_c, dst);
      }
      held = iy;
    }
    return dst;
  }

 private:
  static constexpr int kNone = -(1 << 30);  // no input row
  const ConvGeometry& g_;
  FillPlan plan_;
  int8x16_t zp_;
  const std::int8_t* image_ = nullptr;
  int held_[kMaxRows] = {};
  alignas(16) std::int8_t rows_[kMaxRows * kSlot];
};

// The channel's per-call constants.
struct Channel {
  std::int32_t init;  // bias + input_offset·Σw
  ChannelRequant q;
};

Channel channel_constants(const ConvCall& call, int c, std::int32_t* weights) {
  const ConvGeometry& g = *call.g;
  const int taps = g.filter_h * g.filter_w;
  std::int32_t sum = 0;
  for (int t = 0; t < taps; ++t) {
    weights[t] = call.w[t * g.out_c + c];
    sum += weights[t];
  }
  const std::int32_t bias = call.bias != nullptr ? call.bias[c] : 0;
  return Channel{wrap_add(bias, wrap_mul(call.rq->input_offset, sum)), channel_requant(*call.rq, c)};
}

inline uint32x4_t lane_offsets(int stride) {
  return vmulq_n_u32(vidupq_n_u32(0, 1), static_cast<std::uint32_t>(stride));
}

// Stores four outputs of a channel (at stride in_c); only `pixels` of them when fewer than four.
inline void store4(std::int8_t* y, uint32x4_t stores, int32x4_t v, int pixels) {
  if (pixels >= 4) {
    vstrbq_scatter_offset_s32(y, stores, v);
  } else {
    vstrbq_scatter_offset_p_s32(y, stores, v, vctp32q(pixels));
  }
}

// One output row of a channel from its window rows (buffer rows), any filter.
void run_row_any(const ConvGeometry& g, const std::int8_t* const* rows, const std::int32_t* w, const Channel& ch,
                 const OutputStage& out, std::int8_t* y) {
  const int s = g.stride_w, width = phase_width(s);
  const uint32x4_t stores = lane_offsets(g.out_c);
  for (int ox = 0; ox < g.out_w; ox += 4, y += 4 * g.out_c) {
    int32x4_t acc = vdupq_n_s32(ch.init);
    const std::int32_t* wt = w;
    for (int fy = 0; fy < g.filter_h; ++fy) {
      for (int fx = 0; fx < g.filter_w; ++fx) {
        acc = vmlaq_n_s32(acc, vldrbq_s32(rows[fy] + ox + (fx % s) * width + fx / s), *wt++);
      }
    }
    store4(y, stores, requantize(acc, ch.q, out), g.out_w - ox);
  }
}

// Buffer-row offset of tap column fx for stride S (an immediate of VLDRB).
template <int S>
constexpr int tap(int fx) {
  return (fx % S) * (kSlot / S) + fx / S;
}

// acc + Σ taps of the 3x3 window whose first pixel's columns are at x0, x1, x2 (+ lane).
template <int S>
inline int32x4_t taps_3x3(int32x4_t acc, const std::int8_t* x0, const std::int8_t* x1, const std::int8_t* x2,
                          const std::int32_t* w) {
  acc = vmlaq_n_s32(acc, vldrbq_s32(x0 + tap<S>(0)), w[0]);
  acc = vmlaq_n_s32(acc, vldrbq_s32(x0 + tap<S>(1)), w[1]);
  acc = vmlaq_n_s32(acc, vldrbq_s32(x0 + tap<S>(2)), w[2]);
  acc = vmlaq_n_s32(acc, vldrbq_s32(x1 + tap<S>(0)), w[3]);
  acc = vmlaq_n_s32(acc, vldrbq_s32(x1 + tap<S>(1)), w[4]);
  acc = vmlaq_n_s32(acc, vldrbq_s32(x1 + tap<S>(2)), w[5]);
  acc = vmlaq_n_s32(acc, vldrbq_s32(x2 + tap<S>(0)), w[6]);
  acc = vmlaq_n_s32(acc, vldrbq_s32(x2 + tap<S>(1)), w[7]);
  acc = vmlaq_n_s32(acc, vldrbq_s32(x2 + tap<S>(2)), w[8]);
  return acc;
}

// The same for a 3x3 filter of horizontal stride S, unrolled: eight pixels (two vectors) share
// each weight's register, then four at a time.
template <int S>
void run_row_3x3(const ConvGeometry& g, const std::int8_t* const* rows, const std::int32_t* w, const Channel& ch,
                 const OutputStage& out, std::int8_t* y) {
  const int c = g.out_c;
  const uint32x4_t stores = lane_offsets(c);
  const std::int8_t* x0 = rows[0];
  const std::int8_t* x1 = rows[1];
  const std::int8_t* x2 = rows[2];
  int ox = 0;
  for (; ox + 8 <= g.out_w; ox += 8, x0 += 8, x1 += 8, x2 += 8, y += 8 * c) {
    int32x4_t a = vdupq_n_s32(ch.init), b = a;
    const std::int32_t w0 = w[0], w1 = w[1], w2 = w[2];
    a = vmlaq_n_s32(a, vldrbq_s32(x0 + tap<S>(0)), w0);
    b = vmlaq_n_s32(b, vldrbq_s32(x0 + tap<S>(0) + 4), w0);
    a = vmlaq_n_s32(a, vldrbq_s32(x0 + tap<S>(1)), w1);
    b = vmlaq_n_s32(b, vldrbq_s32(x0 + tap<S>(1) + 4), w1);
    a = vmlaq_n_s32(a, vldrbq_s32(x0 + tap<S>(2)), w2);
    b = vmlaq_n_s32(b, vldrbq_s32(x0 + tap<S>(2) + 4), w2);
    const std::int32_t w3 = w[3], w4 = w[4], w5 = w[5];
    a = vmlaq_n_s32(a, vldrbq_s32(x1 + tap<S>(0)), w3);
    b = vmlaq_n_s32(b, vldrbq_s32(x1 + tap<S>(0) + 4), w3);
    a = vmlaq_n_s32(a, vldrbq_s32(x1 + tap<S>(1)), w4);
    b = vmlaq_n_s32(b, vldrbq_s32(x1 + tap<S>(1) + 4), w4);
    a = vmlaq_n_s32(a, vldrbq_s32(x1 + tap<S>(2)), w5);
    b = vmlaq_n_s32(b, vldrbq_s32(x1 + tap<S>(2) + 4), w5);
    const std::int32_t w6 = w[6], w7 = w[7], w8 = w[8];
    a = vmlaq_n_s32(a, vldrbq_s32(x2 + tap<S>(0)), w6);
    b = vmlaq_n_s32(b, vldrbq_s32(x2 + tap<S>(0) + 4), w6);
    a = vmlaq_n_s32(a, vldrbq_s32(x2 + tap<S>(1)), w7);
    b = vmlaq_n_s32(b, vldrbq_s32(x2 + tap<S>(1) + 4), w7);
    a = vmlaq_n_s32(a, vldrbq_s32(x2 + tap<S>(2)), w8);
    b = vmlaq_n_s32(b, vldrbq_s32(x2 + tap<S>(2) + 4), w8);
    vstrbq_scatter_offset_s32(y, stores, requantize(a, ch.q, out));
    vstrbq_scatter_offset_s32(y + 4 * c, stores, requantize(b, ch.q, out));
  }
  for (; ox < g.out_w; ox += 4, x0 += 4, x1 += 4, x2 += 4, y += 4 * c) {
    store4(y, stores, requantize(taps_3x3<S>(vdupq_n_s32(ch.init), x0, x1, x2, w), ch.q, out), g.out_w - ox);
  }
}

void run_depthwise(const ConvCall& call) {
  const ConvGeometry& g = *call.g;
  const OutputStage out = output_stage(*call.rq);
  void (*run_row)(const ConvGeometry&, const std::int8_t* const*, const std::int32_t*, const Channel&,
                  const OutputStage&, std::int8_t*) = run_row_any;
  if (g.filter_h == 3 && g.filter_w == 3 && g.stride_w == 1) run_row = run_row_3x3<1>;
  if (g.filter_h == 3 && g.filter_w == 3 && g.stride_w == 2) run_row = run_row_3x3<2>;
  WindowRows window(g, static_cast<std::int8_t>(-call.rq->input_offset));
  std::int32_t weights[kMaxTaps];
  const std::int8_t* rows[kMaxRows];
  for (int b = 0; b < g.batches; ++b) {
    const std::int8_t* image = call.x + b * g.in_h * g.in_w * g.in_c;
    for (int c = 0; c < g.out_c; ++c) {
      const Channel ch = channel_constants(call, c, weights);
      window.start_channel(image, c);
      std::int8_t* y = call.y + b * g.out_h * g.out_w * g.out_c + c;
      for (int oy = 0; oy < g.out_h; ++oy, y += g.out_w * g.out_c) {
        const int iy0 = oy * g.stride_h - g.pad_top;
        for (int fy = 0; fy < g.filter_h; ++fy) rows[fy] = window.row(iy0 + fy);
        run_row(g, rows, weights, ch, out, y);
      }
    }
  }
}

}  // namespace

const ConvKernel kDepthwiseKernels[kDepthwiseKernelCount] = {
    {"depthwise_s8_mve_8px", accepts_depthwise, run_depthwise, nullptr, nullptr, nullptr},
};

}  // namespace micronet_ad::kernels::mve

#endif
