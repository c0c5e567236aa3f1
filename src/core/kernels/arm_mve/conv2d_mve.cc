// conv2d kernels of the mve level (Cortex-M55/M85 Helium).
//
// conv1x1_s8_mve_3x2: a 1x1 stride-1 unpadded convolution is a GEMM of m = batches·out_h·out_w
// pixel rows of in_c bytes by the model's [out_c][in_c] weights, read in place. Output channels
// go in pairs, the outer loop: each channel's start value bias + o·Σw (Σ(x+o)·w = Σx·w + o·Σw)
// and requantization are worked out once per call into a record; then tiles of three pixels by
// the two channels run in one asm block: a tail-predicated loop (DLSTP/LETP) of two weight
// loads, three row loads and six VMLADAVA per 16 bytes of depth (0.125 instructions per MAC),
// then each channel's three sums requantized as one vector and scattered at stride out_c. The
// last tile of a call overlaps the previous one when m is no multiple of three (the same bytes
// are written again); an odd last channel runs 4x1 tiles.
//
// conv_s8_mve_c1_4px: a convolution with ONE input channel (the model's first layer; any filter
// of at most 16 taps, any stride and padding): each output pixel's window is one 16-byte vector
// gathered from a zero-point-padded copy of the window rows on the stack, each output channel's
// taps one predicated weight load, so four outputs of a channel are four VMLADAV and one
// requantization. Channels go in chunks whose records fit the stack.
//
// Requantization is exact (mve.h): VQRDMULH, a wrapping VSHL for left shifts, and VRSHL after
// lowering negative values by one where RoundingDivideByPOT's ties round away from zero.
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

// The 4x1 tile (for an odd last output channel): four pixel rows x + i·k dotted with one
// channel's weights in a tail-predicated loop (DLSTP/LETP: the last partial 16 bytes are
// predicated by the loop itself, nothing past a row is read), one weight load and four
// VLDRB + VMLADAVA per 16 bytes, then requantized as one vector (mve::requantize's sequence)
// and scattered at stride out_c. VMLADAVA accumulates into even registers ("Te").
inline void tile_4x1(const std::int8_t* x, int k, const std::int8_t* w, const ChannelRecord* r, int32x4_t lo,
                     int32x4_t hi, std::int8_t* y, uint32x4_t offsets) {
  std::int32_t a0, a1, a2, a3;
  const std::int8_t *x1, *x2, *x3;
  int32x4_t v, n;
  asm volatile(
      "add %[x1], %[x0], %[k]\n\t"
      "add %[x2], %[x1], %[k]\n\t"
      "add %[x3], %[x2], %[k]\n\t"
      "ldr %[a0], [%[r], #20]\n\t"  // ChannelRecord::init
      "mov %[a1], %[a0]\n\t"
      "mov %[a2], %[a0]\n\t"
      "mov %[a3], %[a0]\n\t"
      "dlstp.8 lr, %[k]\n"
      "1:\n\t"
      "vldrb.8 %q[n], [%[w]], #16\n\t"
      "vldrb.8 %q[v], [%[x0]], #16\n\t"
      "vmladava.s8 %[a0], %q[v], %q[n]\n\t"
      "vldrb.8 %q[v], [%[x1]], #16\n\t"
      "vmladava.s8 %[a1], %q[v], %q[n]\n\t"
      "vldrb.8 %q[v], [%[x2]], #16\n\t"
      "vmladava.s8 %[a2], %q[v], %q[n]\n\t"
      "vldrb.8 %q[v], [%[x3]], #16\n\t"
      "vmladava.s8 %[a3], %q[v], %q[n]\n\t"
      "letp lr, 1b\n\t"
      "vmov %q[v][2], %q[v][0], %[a0], %[a2]\n\t"  // Rt goes to the lower lane
      "vmov %q[v][3], %q[v][1], %[a1], %[a3]\n\t"
      "ldrd %[x1], %[x2], [%[r]]\n\t"  // left_shift, multiplier
      "vshl.s32 %q[v], %[x1]\n\t"
      "vqrdmulh.s32 %q[v], %q[v], %[x2]\n\t"
      "ldrd %[x1], %[x2], [%[r], #8]\n\t"  // sign_shift, right_shift
      "vmov %q[n], %q[v]\n\t"
      "vshl.u32 %q[n], %[x1]\n\t"
      "vqsub.s32 %q[v], %q[v], %q[n]\n\t"
      "vrshl.s32 %q[v], %[x2]\n\t"
      "ldr %[x1], [%[r], #16]\n\t"  // output_offset
      "vadd.i32 %q[v], %q[v], %[x1]\n\t"
      "vmax.s32 %q[v], %q[v], %q[lo]\n\t"
      "vmin.s32 %q[v], %q[v], %q[hi]\n\t"
      "vstrb.32 %q[v], [%[y], %q[off]]"
      : [a0] "=&Te"(a0), [a1] "=&Te"(a1), [a2] "=&Te"(a2), [a3] "=&Te"(a3), [x1] "=&r"(x1), [x2] "=&r"(x2),
        [x3] "=&r"(x3), [x0] "+&r"(x), [w] "+&r"(w), [v] "=&w"(v), [n] "=&w"(n)
      : [k] "r"(k), [r] "r"(r), [y] "r"(y), [lo] "w"(lo), [hi] "w"(hi), [off] "w"(offsets), "m"(*r)
      : "lr", "memory");
}

// The 3x2 tile: three pixel rows by two output channels, twelve instructions per 16 bytes of
// depth (two weight loads, three row loads, six VMLADAVA) instead of the 4x1 tile's ten for four
// outputs. What the asm needs besides the three row and two weight pointers lives in one record
// (all fourteen core registers are taken in the loop).
struct Tile3x2 {
  ChannelRecord channel[2];  // at 0 and 24: init at +20
  std::int8_t* y;            // at 48: the first pixel's output of channel[0]; channel[1]'s is y + 1
  std::int32_t k;            // at 52
};

// Lanes 0..2: the three pixels; lane 3 repeats lane 2 (same value to the same byte), so that
// four-lane scatters need no predicate.
inline void tile_3x2(const std::int8_t* x, const std::int8_t* w, const Tile3x2* t, int32x4_t lo, int32x4_t hi,
                     uint32x4_t offsets) {
  std::int32_t a0, a1, a2, a3, a4, a5;
  const std::int8_t *x1, *x2, *w1;
  int32x4_t q0, q1, q2;
  asm volatile(
      "ldr %[x1], [%[t], #52]\n\t"  // k
      "add %[w1], %[w0], %[x1]\n\t"
      "add %[x2], %[x0], %[x1], lsl #1\n\t"
      "add %[x1], %[x0], %[x1]\n\t"
      "ldr %[a0], [%[t], #20]\n\t"
      "mov %[a1], %[a0]\n\t"
      "mov %[a2], %[a0]\n\t"
      "ldr %[a3], [%[t], #44]\n\t"
      "mov %[a4], %[a3]\n\t"
      "ldr %[a5], [%[t], #52]\n\t"  // k, then a5 = a3 again
      "dlstp.8 lr, %[a5]\n\t"
      "mov %[a5], %[a3]\n"
      "1:\n\t"
      "vldrb.8 %q[q0], [%[w0]], #16\n\t"
      "vldrb.8 %q[q1], [%[w1]], #16\n\t"
      "vldrb.8 %q[q2], [%[x0]], #16\n\t"
      "vmladava.s8 %[a0], %q[q2], %q[q0]\n\t"
      "vmladava.s8 %[a3], %q[q2], %q[q1]\n\t"
      "vldrb.8 %q[q2], [%[x1]], #16\n\t"
      "vmladava.s8 %[a1], %q[q2], %q[q0]\n\t"
      "vmladava.s8 %[a4], %q[q2], %q[q1]\n\t"
      "vldrb.8 %q[q2], [%[x2]], #16\n\t"
      "vmladava.s8 %[a2], %q[q2], %q[q0]\n\t"
      "vmladava.s8 %[a5], %q[q2], %q[q1]\n\t"
      "letp lr, 1b\n\t"
      // Channel 0: lanes a0 a1 a2 a2.
      "vmov %q[q0][2], %q[q0][0], %[a0], %[a2]\n\t"  // Rt goes to the lower lane
      "vmov %q[q0][3], %q[q0][1], %[a1], %[a2]\n\t"
      "ldr %[w0], [%[t], #48]\n\t"  // y
      "ldrd %[x1], %[x2], [%[t]]\n\t"
      "vshl.s32 %q[q0], %[x1]\n\t"
      "vqrdmulh.s32 %q[q0], %q[q0], %[x2]\n\t"
      "ldrd %[x1], %[x2], [%[t], #8]\n\t"
      "vmov %q[q1], %q[q0]\n\t"
      "vshl.u32 %q[q1], %[x1]\n\t"
      "vqsub.s32 %q[q0], %q[q0], %q[q1]\n\t"
      "vrshl.s32 %q[q0], %[x2]\n\t"
      "ldr %[x1], [%[t], #16]\n\t"
      "vadd.i32 %q[q0], %q[q0], %[x1]\n\t"
      "vmax.s32 %q[q0], %q[q0], %q[lo]\n\t"
      "vmin.s32 %q[q0], %q[q0], %q[hi]\n\t"
      "vstrb.32 %q[q0], [%[w0], %q[off]]\n\t"
      // Channel 1: lanes a3 a4 a5 a5, one byte further.
      "vmov %q[q0][2], %q[q0][0], %[a3], %[a5]\n\t"
      "vmov %q[q0][3], %q[q0][1], %[a4], %[a5]\n\t"
      "adds %[w0], #1\n\t"
      "ldrd %[x1], %[x2], [%[t], #24]\n\t"
      "vshl.s32 %q[q0], %[x1]\n\t"
      "vqrdmulh.s32 %q[q0], %q[q0], %[x2]\n\t"
      "ldrd %[x1], %[x2], [%[t], #32]\n\t"
      "vmov %q[q1], %q[q0]\n\t"
      "vshl.u32 %q[q1], %[x1]\n\t"
      "vqsub.s32 %q[q0], %q[q0], %q[q1]\n\t"
      "vrshl.s32 %q[q0], %[x2]\n\t"
      "ldr %[x1], [%[t], #40]\n\t"
      "vadd.i32 %q[q0], %q[q0], %[x1]\n\t"
      "vmax.s32 %q[q0], %q[q0], %q[lo]\n\t"
      "vmin.s32 %q[q0], %q[q0], %q[hi]\n\t"
      "vstrb.32 %q[q0], [%[w0], %q[off]]"
      : [a0] "=&Te"(a0), [a1] "=&Te"(a1), [a2] "=&Te"(a2), [a3] "=&Te"(a3), [a4] "=&Te"(a4), [a5] "=&Te"(a5),
        [x1] "=&r"(x1), [x2] "=&r"(x2), [w1] "=&r"(w1), [x0] "+&r"(x), [w0] "+&r"(w), [q0] "=&w"(q0), [q1] "=&w"(q1),
        [q2] "=&w"(q2)
      : [t] "r"(t), [lo] "w"(lo), [hi] "w"(hi), [off] "w"(offsets), "m"(*t)
      : "lr", "memory");
}

// One pixel row dotted with one channel's weights, started at `init` (tails of tiny GEMMs).
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
  const int32x4_t lo = vdupq_n_s32(rq.act_min), hi = vdupq_n_s32(rq.act_max);
  auto record = [&](int oc) {
    const std::int32_t bias = call.bias != nullptr ? call.bias[oc] : 0;
    return channel_record(rq, oc, wrap_add(bias, wrap_mul(rq.input_offset, sum_bytes(call.w + oc * k, k))));
  };
  if (m < 3) {  // too few pixels for a 3x2 tile
    for (int oc = 0; oc < n; ++oc) {
      const ChannelRecord r = record(oc);
      for (int p = 0; p < m; ++p) {
        call.y[p * n + oc] =
            quant::requantize(dot_1x1(call.x + p * k, k, call.w + oc * k, r.init), 0, rq.multipliers[oc], rq.shifts[oc],
                              rq.output_offset, rq.act_min, rq.act_max);
      }
    }
    return;
  }
  // Byte offsets of three consecutive pixels' outputs of one channel, the third repeated.
  const uint32x4_t pixel_offsets =
      vmulq_n_u32(vminq_u32(vidupq_n_u32(0, 1), vdupq_n_u32(2)), static_cast<std::uint32_t>(n));
  Tile3x2 tile;
  tile.k = k;
  int oc = 0;
  for (; oc + 2 <= n; oc += 2) {
    tile.channel[0] = record(oc);
    tile.channel[1] = record(oc + 1);
    const std::int8_t* w = call.w + oc * k;
    const std::int8_t* x = call.x;
    std::int8_t* y = call.y + oc;
    for (int left = m;;) {
      tile.y = y;
      tile_3x2(x, w, &tile, lo, hi, pixel_offsets);
      left -= 3;
      if (left <= 0) break;
      // The last tile overlaps the previous one when m is no multiple of 3: the same bytes again.
      const int step = left < 3 ? left : 3;
      x += step * k;
      y += step * n;
    }
  }
  if (oc < n) {  // an odd last channel: 4x1 tiles
    const ChannelRecord r = record(oc);
    const uint32x4_t four_offsets = vmulq_n_u32(vidupq_n_u32(0, 1), static_cast<std::uint32_t>(n));
    const std::int8_t* w = call.w + oc * k;
    for (int p = 0;; p += 4) {
      if (p + 4 > m) p = m - 4 < 0 ? 0 : m - 4;
      if (p + 4 > m) {  // fewer than four pixels
        for (; p < m; ++p) {
          call.y[p * n + oc] = quant::requantize(dot_1x1(call.x + p * k, k, w, r.init), 0, rq.multipliers[oc],
                                                 rq.shifts[oc], rq.output_offset, rq.act_min, rq.act_max);
        }
        break;
      }
      tile_4x1(call.x + p * k, k, w, &r, lo, hi, call.y + p * n + oc, four_offsets);
      if (p + 4 >= m) break;
    }
  }
}

// ---- one input channel, small filter -------------------------------------------------------

// The stack copy of the window rows: at most kMaxRowBytes bytes, addressable by 8-bit offsets.
constexpr int kMaxRowBytes = 104;
constexpr int kPixelsPerBlock = 4;
constexpr int kChunk = 7;  // output channels whose records are on the stack at a time (stack < 512 B)

// Columns of the padded rows one output row needs, whole blocks of four pixels included (the last
// block's pixels past out_w gather inside the buffer and are not stored).
inline int padded_row_width(const ConvGeometry& g) {
  const int blocks = (g.out_w + kPixelsPerBlock - 1) / kPixelsPerBlock;
  return (blocks * kPixelsPerBlock - 1) * g.stride_w + g.filter_w;
}

bool accepts_conv_c1(const ConvGeometry& g) {
  if (g.in_c != 1 || g.filter_h * g.filter_w > 16 || g.dilation_h != 1 || g.dilation_w != 1 || g.batches < 1 ||
      g.pad_left < 0)
    return false;
  const int width = padded_row_width(g);
  // Every window tap's offset (fy·width + fx) must fit the 8-bit gather offsets.
  return width * g.filter_h <= kMaxRowBytes && (g.filter_h - 1) * width + g.filter_w - 1 <= 255;
}

// Copies input row iy's columns [ix0, ix0 + width) to dst, the input zero point where outside.
// Out of line: inlined, its temporaries would enlarge the kernel's stack frame.
__attribute__((noinline)) void fill_row(const std::int8_t* image, int in_h, int in_w, int iy, int ix0, int width,
                                        std::int8_t zero_point, std::int8_t* dst) {
  const int8x16_t zp = vdupq_n_s8(zero_point);
  for (int i = 0; i < width; i += 16) vstrbq_p_s8(dst + i, zp, vctp8q(width - i));
  if (iy < 0 || iy >= in_h) return;
  const std::int8_t* row = image + iy * in_w;
  const int begin = ix0 < 0 ? -ix0 : 0;                     // first column inside the input
  const int end = in_w - ix0 < width ? in_w - ix0 : width;  // one past the last
  for (int i = begin; i < end; i += 16) {
    const mve_pred16_t p = vctp8q(end - i);
    vstrbq_p_s8(dst + i, vldrbq_z_s8(row + ix0 + i, p), p);
  }
}

// `count` output channels of four pixels whose windows are x0..x3: per channel one weight load
// (`taps` apart, predicated to the taps), four VMLADAV and the requantization, stored at y + j (pixels n apart, by
// `offsets`). In asm: the four window vectors, the offsets and three temporaries are the eight
// vector registers; the clamp bounds (and a partial block's store predicate) come from ctx.
struct BlockContext {
  std::int32_t act_min, act_max;  // the activation clamp
  std::uint32_t store_lanes;      // a partial block's store predicate (VPR.P0 bits)
  std::uint32_t tap_lanes;        // the weight loads' predicate: the filter's taps
  std::int32_t output_offset;
};

// ChannelRecord without the output offset (in BlockContext): 20 bytes, for a smaller stack.
struct C1Record {
  std::int32_t left_shift, multiplier, sign_shift, right_shift, init;
};

template <bool kPartial>
inline void channels_c1(int8x16_t x0, int8x16_t x1, int8x16_t x2, int8x16_t x3, const std::int8_t* w, int taps,
                        const C1Record* r, int count, const BlockContext* ctx, std::int8_t* y, uint32x4_t offsets) {
  std::int32_t a0, a1, a2, a3, t0, t1;
  int8x16_t wv;
  int32x4_t v, n;
  asm volatile(
      // The weights load predicated to the taps (P0 = tap_lanes), so nothing past the filter's
      // end is read; a partial block's store is predicated by store_lanes.
      "ldr %[t0], [%[lh], #12]\n\t"  // BlockContext::tap_lanes
      "vmsr p0, %[t0]\n\t"
      "dls lr, %[count]\n"
      "1:\n\t"
      ".if %c[partial]\n\t"
      "ldr %[t0], [%[lh], #12]\n\t"
      "vmsr p0, %[t0]\n\t"
      ".endif\n\t"
      "vpst\n\t"
      "vldrbt.8 %q[wv], [%[w]]\n\t"
      "add %[w], %[w], %[taps]\n\t"
      "vmladav.s8 %[a0], %q[x0], %q[wv]\n\t"
      "vmladav.s8 %[a1], %q[x1], %q[wv]\n\t"
      "vmladav.s8 %[a2], %q[x2], %q[wv]\n\t"
      "vmladav.s8 %[a3], %q[x3], %q[wv]\n\t"
      "vmov %q[v][2], %q[v][0], %[a0], %[a2]\n\t"  // Rt goes to the lower lane
      "vmov %q[v][3], %q[v][1], %[a1], %[a3]\n\t"
      "ldr %[t0], [%[r], #16]\n\t"  // init
      "vadd.i32 %q[v], %q[v], %[t0]\n\t"
      "ldrd %[t0], %[t1], [%[r]]\n\t"
      "vshl.s32 %q[v], %[t0]\n\t"
      "vqrdmulh.s32 %q[v], %q[v], %[t1]\n\t"
      "ldrd %[t0], %[t1], [%[r], #8]\n\t"
      "vmov %q[n], %q[v]\n\t"
      "vshl.u32 %q[n], %[t0]\n\t"
      "vqsub.s32 %q[v], %q[v], %q[n]\n\t"
      "vrshl.s32 %q[v], %[t1]\n\t"
      "ldr %[t0], [%[lh], #16]\n\t"  // BlockContext::output_offset
      "vadd.i32 %q[v], %q[v], %[t0]\n\t"
      "ldrd %[t0], %[t1], [%[lh]]\n\t"  // act_min, act_max
      "vdup.32 %q[n], %[t0]\n\t"
      "vmax.s32 %q[v], %q[v], %q[n]\n\t"
      "vdup.32 %q[n], %[t1]\n\t"
      "vmin.s32 %q[v], %q[v], %q[n]\n\t"
      // A partial block (fewer than four pixels left) stores predicated by store_lanes (in P0).
      ".if %c[partial]\n\t"
      "ldr %[t0], [%[lh], #8]\n\t"  // BlockContext::store_lanes
      "vmsr p0, %[t0]\n\t"
      "vpst\n\t"
      "vstrbt.32 %q[v], [%[y], %q[off]]\n\t"
      ".else\n\t"
      "vstrb.32 %q[v], [%[y], %q[off]]\n\t"
      ".endif\n\t"
      "adds %[y], #1\n\t"
      "adds %[r], #20\n\t"
      "le lr, 1b"
      : [a0] "=&Te"(a0), [a1] "=&Te"(a1), [a2] "=&Te"(a2), [a3] "=&Te"(a3), [t0] "=&r"(t0), [t1] "=&r"(t1),
        [wv] "=&w"(wv), [v] "=&w"(v), [n] "=&w"(n), [w] "+&r"(w), [r] "+&r"(r), [y] "+&r"(y)
      : [x0] "w"(x0), [x1] "w"(x1), [x2] "w"(x2), [x3] "w"(x3), [off] "w"(offsets), [taps] "r"(taps),
        [count] "r"(count), [lh] "r"(ctx), [partial] "n"(kPartial ? 1 : 0), "m"(*r), "m"(*ctx)
      : "lr", "memory");
}

// Gather offsets of a window in the padded rows: lane t < taps reads tap (t / filter_w,
// t % filter_w), the other lanes load zero. Built in registers: window row fy's lanes
// [fy·filter_w, (fy + 1)·filter_w) hold t + fy·(width − filter_w).
inline uint8x16_t tap_offsets(const ConvGeometry& g, int width) {
  const uint8x16_t lane = vidupq_n_u8(0, 1);
  uint8x16_t offsets = vdupq_n_u8(0);
  for (int fy = 0; fy < g.filter_h; ++fy) {
    const mve_pred16_t row_lanes = vctp8q((fy + 1) * g.filter_w) & ~vctp8q(fy * g.filter_w);
    offsets = vpselq_u8(vaddq_n_u8(lane, static_cast<std::uint8_t>(fy * (width - g.filter_w))), offsets, row_lanes);
  }
  return offsets;
}

// Output channels [c0, c0 + count) of one output row: per block of four pixels, their windows
// are four vectors; per channel, one weight load, four VMLADAV and one requantization.
// Out of line: its spilled vectors would otherwise add to run_conv_c1's frame (< 512 B in all).
__attribute__((noinline)) void run_row_c1(const ConvCall& call, const std::int8_t* rows, int width,
                                          const C1Record* records, int c0, int count, BlockContext* ctx,
                                          std::int8_t* y_row) {
  const ConvGeometry& g = *call.g;
  const int taps = g.filter_h * g.filter_w, n = g.out_c, s = g.stride_w;
  const mve_pred16_t tap_lanes = vctp8q(taps);
  const uint8x16_t offsets = tap_offsets(g, width);
  const uint32x4_t pixel_offsets = vmulq_n_u32(vidupq_n_u32(0, 1), static_cast<std::uint32_t>(n));
  for (int ox = 0; ox < g.out_w; ox += kPixelsPerBlock) {
    const std::int8_t* window = rows + ox * s;
    const int8x16_t x0 = vldrbq_gather_offset_z_s8(window, offsets, tap_lanes);
    const int8x16_t x1 = vldrbq_gather_offset_z_s8(window + s, offsets, tap_lanes);
    const int8x16_t x2 = vldrbq_gather_offset_z_s8(window + 2 * s, offsets, tap_lanes);
    const int8x16_t x3 = vldrbq_gather_offset_z_s8(window + 3 * s, offsets, tap_lanes);
    std::int8_t* y = y_row + ox * n + c0;
    const std::int8_t* w = call.w + c0 * taps;
    if (g.out_w - ox >= kPixelsPerBlock) {
      channels_c1<false>(x0, x1, x2, x3, w, taps, records, count, ctx, y, pixel_offsets);
    } else {
      ctx->store_lanes = vctp32q(g.out_w - ox);
      channels_c1<true>(x0, x1, x2, x3, w, taps, records, count, ctx, y, pixel_offsets);
    }
  }
}

// The records of output channels [c0, c0 + count). Out of line, like fill_row.
__attribute__((noinline)) void fill_records(const ConvCall& call, int c0, int count, C1Record* records) {
  const Requantization& rq = *call.rq;
  const int taps = call.g->filter_h * call.g->filter_w;
  for (int j = 0; j < count; ++j) {
    // Start value bias + input_offset·Σw: padded taps read the zero point and add (zp + o)·w = 0.
    const std::int8_t* w = call.w + (c0 + j) * taps;
    const std::int32_t bias = call.bias != nullptr ? call.bias[c0 + j] : 0;
    const std::int32_t w_sum = vaddvq_s8(vldrbq_z_s8(w, vctp8q(taps)));
    const ChannelRequant q = channel_requant(rq, c0 + j);
    records[j] = C1Record{q.left_shift, q.multiplier, q.sign_shift, q.right_shift,
                          wrap_add(bias, wrap_mul(rq.input_offset, w_sum))};
  }
}

void run_conv_c1(const ConvCall& call) {
  const ConvGeometry& g = *call.g;
  const Requantization& rq = *call.rq;
  const int taps = g.filter_h * g.filter_w, n = g.out_c;
  const int width = padded_row_width(g);
  const std::int8_t zero_point = static_cast<std::int8_t>(-rq.input_offset);
  BlockContext ctx{rq.act_min, rq.act_max, 0, vctp8q(taps), rq.output_offset};
  std::int8_t rows[kMaxRowBytes];
  C1Record records[kChunk];
  for (int c0 = 0; c0 < n; c0 += kChunk) {
    const int count = n - c0 < kChunk ? n - c0 : kChunk;
    fill_records(call, c0, count, records);
    for (int b = 0; b < g.batches; ++b) {
      const std::int8_t* image = call.x + b * g.in_h * g.in_w;
      for (int oy = 0; oy < g.out_h; ++oy) {
        const int iy0 = oy * g.stride_h - g.pad_top;
        for (int fy = 0; fy < g.filter_h; ++fy) {
          fill_row(image, g.in_h, g.in_w, iy0 + fy, -g.pad_left, width, zero_point, rows + fy * width);
        }
        run_row_c1(call, rows, width, records, c0, count, &ctx, call.y + (b * g.out_h + oy) * g.out_w * n);
      }
    }
  }
}

}  // namespace

const ConvKernel kConvKernels[kConvKernelCount] = {
    {"conv1x1_s8_mve_3x2", accepts_conv1x1, run_conv1x1, nullptr, nullptr, nullptr},
    {"conv_s8_mve_c1_4px", accepts_conv_c1, run_conv_c1, nullptr, nullptr, nullptr},
};

}  // namespace micronet_ad::kernels::mve

#endif
