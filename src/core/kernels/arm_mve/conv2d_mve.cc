// conv2d kernels of the mve level (Cortex-M55/M85 Helium).
//
// conv1x1_s8_mve_4x1: a 1x1 stride-1 unpadded convolution is a GEMM of m = batches·out_h·out_w
// pixel rows of in_c bytes by the model's [out_c][in_c] weights, read in place. Output channels
// are the outer loop: each channel's Σw (for the input offset: Σ(x+o)·w = Σx·w + o·Σw) and
// requantization parameters are worked out once per call; then four pixels at a time are dotted
// with its weights, 16 bytes per VMLADAVA, and requantized as one vector.
//
// conv3x3_s8_mve_c1: the first layer's convolution with ONE input channel (any small filter of
// at most 16 taps, any stride and padding): each output pixel's window is one 16-byte vector
// gathered from a zero-point-padded copy of the window rows on the stack; each output channel's
// weights are one vector, so an output is one VMLADAV.
#include "kernels/level.h"

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)

#include "kernels/arm_mve/mve.h"
#include "quant/quantization.h"

namespace micronet_ad::kernels::mve {
namespace {

// ---- 1x1 -------------------------------------------------------------------------------------

bool accepts_conv1x1(const ConvGeometry& g) {
  return g.filter_h == 1 && g.filter_w == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_top == 0 &&
         g.pad_left == 0 && g.in_h == g.out_h && g.in_w == g.out_w && g.in_c >= 1 && g.out_c >= 1 && g.batches >= 1;
}

// Four pixel rows x0 + i·k (i = 0..3) dotted with w[0..k), each sum started at `init`: a
// tail-predicated loop (DLSTP/LETP: the last partial chunk of 16 bytes is predicated by the loop
// itself, so nothing past a row is read and there is no separate tail code) of one weight load
// and four VLDRB + VMLADAVA per 16 bytes. VMLADAVA accumulates into even registers ("Te").
inline int32x4_t dot_4x1(const std::int8_t* x0, int k, const std::int8_t* w, std::int32_t init) {
  const std::int8_t* x1 = x0 + k;
  const std::int8_t* x2 = x1 + k;
  const std::int8_t* x3 = x2 + k;
  std::int32_t a0 = init, a1 = init, a2 = init, a3 = init;
  asm volatile(
      "dlstp.8 lr, %[n]\n"
      "1:\n\t"
      "vldrb.8 q0, [%[w]], #16\n\t"
      "vldrb.8 q1, [%[x0]], #16\n\t"
      "vmladava.s8 %[a0], q1, q0\n\t"
      "vldrb.8 q2, [%[x1]], #16\n\t"
      "vmladava.s8 %[a1], q2, q0\n\t"
      "vldrb.8 q3, [%[x2]], #16\n\t"
      "vmladava.s8 %[a2], q3, q0\n\t"
      "vldrb.8 q1, [%[x3]], #16\n\t"
      "vmladava.s8 %[a3], q1, q0\n\t"
      "letp lr, 1b"
      : [a0] "+Te"(a0), [a1] "+Te"(a1), [a2] "+Te"(a2), [a3] "+Te"(a3), [w] "+r"(w), [x0] "+r"(x0), [x1] "+r"(x1),
        [x2] "+r"(x2), [x3] "+r"(x3)
      : [n] "r"(k)
      : "lr", "q0", "q1", "q2", "q3", "memory");
  return make_vector(a0, a1, a2, a3);
}

inline std::int32_t dot_1x1(const std::int8_t* x, int k, const std::int8_t* w, std::int32_t init) {
  std::int32_t a = init;
  asm volatile(
      "dlstp.8 lr, %[n]\n"
      "1:\n\t"
      "vldrb.8 q0, [%[w]], #16\n\t"
      "vldrb.8 q1, [%[x]], #16\n\t"
      "vmladava.s8 %[a], q1, q0\n\t"
      "letp lr, 1b"
      : [a] "+Te"(a), [w] "+r"(w), [x] "+r"(x)
      : [n] "r"(k)
      : "lr", "q0", "q1", "memory");
  return a;
}

void run_conv1x1(const ConvCall& call) {
  const ConvGeometry& g = *call.g;
  const Requantization& rq = *call.rq;
  const int m = g.batches * g.out_h * g.out_w, k = g.in_c, n = g.out_c;
  const OutputStage out = output_stage(rq);
  // Byte offsets of four consecutive pixels' outputs of one channel.
  const uint32x4_t pixel_offsets = vmulq_n_u32(vidupq_n_u32(0, 1), static_cast<std::uint32_t>(n));
  const std::int8_t* w = call.w;
  for (int oc = 0; oc < n; ++oc, w += k) {
    const std::int32_t bias = call.bias != nullptr ? call.bias[oc] : 0;
    const std::int32_t init = wrap_add(bias, wrap_mul(rq.input_offset, sum_bytes(w, k)));
    const ChannelRequant q = channel_requant(rq, oc);
    const std::int8_t* x = call.x;
    std::int8_t* y = call.y + oc;
    int p = 0;
    for (; p + 4 <= m; p += 4, x += 4 * k, y += 4 * n) {
      vstrbq_scatter_offset_s32(y, pixel_offsets, requantize(dot_4x1(x, k, w, init), q, out));
    }
    for (; p < m; ++p, x += k, y += n) {
      *y = quant::requantize(dot_1x1(x, k, w, init), 0, rq.multipliers[oc], rq.shifts[oc], rq.output_offset,
                             rq.act_min, rq.act_max);
    }
  }
}

// ---- one input channel, small filter -------------------------------------------------------

// The stack copy of the window rows: at most kMaxRowBytes bytes, addressable by 8-bit offsets.
constexpr int kMaxRowBytes = 288;
constexpr int kPixelsPerBlock = 4;

// Columns of the padded rows one output row needs: (out_w − 1)·stride + filter_w, plus slack so
// that the last block's pixels past out_w still gather inside the buffer.
inline int padded_row_width(const ConvGeometry& g) {
  return (g.out_w + kPixelsPerBlock - 1) * g.stride_w + g.filter_w;
}

bool accepts_conv_c1(const ConvGeometry& g) {
  if (g.in_c != 1 || g.filter_h * g.filter_w > 16 || g.dilation_h != 1 || g.dilation_w != 1 || g.batches < 1)
    return false;
  const int width = padded_row_width(g);
  // Every window tap's offset (fy·width + fx) must fit the 8-bit gather offsets.
  return width * g.filter_h <= kMaxRowBytes && (g.filter_h - 1) * width + g.filter_w - 1 <= 255;
}

// Copies input row iy's columns [ix0, ix0 + width) to dst, the input zero point where outside.
void fill_row(const std::int8_t* row, int in_h, int in_w, int iy, int ix0, int width, std::int8_t zero_point,
              std::int8_t* dst) {
  const int8x16_t zp = vdupq_n_s8(zero_point);
  for (int i = 0; i < width; i += 16) vstrbq_s8(dst + i, zp);  // the buffer has 16 bytes of slack
  if (iy < 0 || iy >= in_h) return;
  const int begin = ix0 < 0 ? -ix0 : 0;                           // first column inside the input
  const int end = in_w - ix0 < width ? in_w - ix0 : width;        // one past the last
  for (int i = begin; i < end; i += 16) {
    const mve_pred16_t p = vctp8q(end - i);
    vstrbq_p_s8(dst + i, vldrbq_z_s8(row + ix0 + i, p), p);
  }
}

void run_conv_c1(const ConvCall& call) {
  const ConvGeometry& g = *call.g;
  const Requantization& rq = *call.rq;
  const int taps = g.filter_h * g.filter_w, n = g.out_c;
  const int width = padded_row_width(g);
  const OutputStage out = output_stage(rq);
  const std::int8_t zero_point = static_cast<std::int8_t>(-rq.input_offset);
  alignas(16) std::int8_t rows[kMaxRowBytes + 16];

  // Lane t < taps gathers tap (t / filter_w, t % filter_w); the other lanes load zero.
  alignas(16) std::uint8_t tap_offsets[16] = {};
  for (int t = 0; t < taps; ++t) tap_offsets[t] = static_cast<std::uint8_t>(t / g.filter_w * width + t % g.filter_w);
  const uint8x16_t offsets = vldrbq_u8(tap_offsets);
  const mve_pred16_t tap_lanes = vctp8q(taps);
  const uint32x4_t pixel_offsets = vmulq_n_u32(vidupq_n_u32(0, 1), static_cast<std::uint32_t>(n));

  for (int b = 0; b < g.batches; ++b) {
    const std::int8_t* image = call.x + b * g.in_h * g.in_w;
    for (int oy = 0; oy < g.out_h; ++oy) {
      const int iy0 = oy * g.stride_h - g.pad_top;
      for (int fy = 0; fy < g.filter_h; ++fy) {
        const int iy = iy0 + fy;
        fill_row(image + iy * g.in_w, g.in_h, g.in_w, iy, -g.pad_left, width, zero_point, rows + fy * width);
      }
      std::int8_t* y_row = call.y + ((b * g.out_h + oy) * g.out_w) * n;
      for (int ox = 0; ox < g.out_w; ox += kPixelsPerBlock) {
        const std::int8_t* window = rows + ox * g.stride_w;
        const int8x16_t x0 = vldrbq_gather_offset_z_s8(window, offsets, tap_lanes);
        const int8x16_t x1 = vldrbq_gather_offset_z_s8(window + g.stride_w, offsets, tap_lanes);
        const int8x16_t x2 = vldrbq_gather_offset_z_s8(window + 2 * g.stride_w, offsets, tap_lanes);
        const int8x16_t x3 = vldrbq_gather_offset_z_s8(window + 3 * g.stride_w, offsets, tap_lanes);
        const int pixels = g.out_w - ox;
        const mve_pred16_t store_lanes = vctp32q(pixels < kPixelsPerBlock ? pixels : kPixelsPerBlock);
        std::int8_t* y = y_row + ox * n;
        const std::int8_t* w = call.w;
        for (int oc = 0; oc < n; ++oc, w += taps) {
          // The window lanes past `taps` are zero, so whatever w holds there adds nothing; the
          // last channel's load stops at the filter's end.
          const int8x16_t wv = oc + 1 < n ? vldrbq_s8(w) : vldrbq_z_s8(w, tap_lanes);
          const std::int32_t bias = call.bias != nullptr ? call.bias[oc] : 0;
          const std::int32_t init = wrap_add(bias, wrap_mul(rq.input_offset, vaddvq_s8(vldrbq_z_s8(w, tap_lanes))));
          const int32x4_t acc = make_vector(vmladavaq_s8(init, x0, wv), vmladavaq_s8(init, x1, wv),
                                            vmladavaq_s8(init, x2, wv), vmladavaq_s8(init, x3, wv));
          vstrbq_scatter_offset_p_s32(y + oc, pixel_offsets, requantize(acc, channel_requant(rq, oc), out),
                                      store_lanes);
        }
      }
    }
  }
}

}  // namespace

const ConvKernel kConvKernels[kConvKernelCount] = {
    {"conv1x1_s8_mve_4x1", accepts_conv1x1, run_conv1x1, nullptr, nullptr, nullptr},
    {"conv_s8_mve_c1_4px", accepts_conv_c1, run_conv_c1, nullptr, nullptr, nullptr},
};

}  // namespace micronet_ad::kernels::mve

#endif
