// depthwise_conv2d kernel of the dsp level: 3x3, depth multiplier 1, any stride and padding.
// Four channels at a time: their 9 taps' weights are widened once per call to halfword pairs
// (c0,c2) (c1,c3) on the stack, so each tap costs one input word, two SXTAB16 (adding the input
// offset) and four SMLAxy. Taps in the padding are skipped (they contribute (zp − zp)·w = 0).
#if defined(__ARM_FEATURE_DSP)

#include "kernels/arm_dsp/dsp.h"
#include "kernels/reference/reference.h"
#include "kernels/reference/taps.h"

namespace micronet_ad::kernels::dsp {
namespace {

constexpr int kTaps = 9;

// Four channels' weights per tap as (w_c0, w_c2) and (w_c1, w_c3), adjacent for LDRD.
struct alignas(8) Weights4 {
  std::int32_t pair[kTaps][2];
};

struct Accumulators4 {
  std::int32_t a0, a1, a2, a3;
};

// acc += one tap at x with weights `pair` (a Weights4 row): 8 instructions for 4 multiply-adds.
__attribute__((always_inline)) inline void accumulate_tap(const std::int8_t* x, const std::int32_t* pair,
                                                          std::int32_t offset2, Accumulators4& acc) {
  std::int32_t t0, t1, we, wo;
  __asm__ volatile(
      "ldr %[t0], [%[x]]\n\t"
      "ldrd %[we], %[wo], [%[w]]\n\t"
      "sxtab16 %[t1], %[off], %[t0]\n\t"
      "sxtab16 %[t0], %[off], %[t0], ror #8\n\t"
      "smlabb %[a0], %[t1], %[we], %[a0]\n\t"
      "smlatt %[a2], %[t1], %[we], %[a2]\n\t"
      "smlabb %[a1], %[t0], %[wo], %[a1]\n\t"
      "smlatt %[a3], %[t0], %[wo], %[a3]"
      : [a0] "+r"(acc.a0), [a1] "+r"(acc.a1), [a2] "+r"(acc.a2), [a3] "+r"(acc.a3), [t0] "=&r"(t0), [t1] "=&r"(t1),
        [we] "=&r"(we), [wo] "=&r"(wo)
      : [x] "r"(x), [w] "r"(pair), [off] "r"(offset2)
      : "memory");
}

// acc += the taps [fy0, fy1) x [fx0, fx1) of the window whose tap (0, 0) is at `x` (channel c0).
inline void accumulate_taps(const std::int8_t* x, int x_step, int row_step, const Weights4& w, int fy0, int fy1,
                            int fx0, int fx1, std::int32_t offset2, Accumulators4& acc) {
  for (int fy = fy0; fy < fy1; ++fy) {
    const std::int8_t* xr = x + fy * row_step + fx0 * x_step;
    for (int fx = fx0; fx < fx1; ++fx, xr += x_step) accumulate_tap(xr, w.pair[fy * 3 + fx], offset2, acc);
  }
}

// One tap at x + `offset` (a register) with weights pair[k]: 8 instructions for 4 multiply-adds.
#define MNAD_DSP_TAP(offset, k)              \
  "ldr %[t0], [%[p]" offset                  \
  "]\n\t"                                    \
  "ldrd %[we], %[wo], [%[w], #(" #k          \
  ")*8]\n\t"                                 \
  "sxtab16 %[t1], %[off], %[t0]\n\t"         \
  "sxtab16 %[t0], %[off], %[t0], ror #8\n\t" \
  "smlabb %[a0], %[t1], %[we], %[a0]\n\t"    \
  "smlatt %[a2], %[t1], %[we], %[a2]\n\t"    \
  "smlabb %[a1], %[t0], %[wo], %[a1]\n\t"    \
  "smlatt %[a3], %[t0], %[wo], %[a3]\n\t"

#define MNAD_DSP_ROW(k0) MNAD_DSP_TAP("", k0) MNAD_DSP_TAP(", %[c1]", k0 + 1) MNAD_DSP_TAP(", %[c1], lsl #1", k0 + 2)

// All 9 taps of an interior window (tap (0,0) at x), as asm: 13 registers, which GCC spills.
__attribute__((always_inline)) inline void accumulate_9(const std::int8_t* x, int x_step, int row_step,
                                                        const Weights4& w, std::int32_t offset2, Accumulators4& acc) {
  std::int32_t t0, t1, we, wo;
  const std::int8_t* p = x;
  __asm__ volatile(
      MNAD_DSP_ROW(0) "add %[p], %[p], %[row]\n\t" MNAD_DSP_ROW(3) "add %[p], %[p], %[row]\n\t" MNAD_DSP_ROW(6)
      : [a0] "+r"(acc.a0), [a1] "+r"(acc.a1), [a2] "+r"(acc.a2), [a3] "+r"(acc.a3), [p] "+r"(p), [t0] "=&r"(t0),
        [t1] "=&r"(t1), [we] "=&r"(we), [wo] "=&r"(wo)
      : [w] "r"(&w), [c1] "r"(x_step), [row] "r"(row_step), [off] "r"(offset2)
      : "memory");
}

template <bool kFast>
void channel_group(const ConvCall& call, int c, const Weights4& w, const Group4Rq* group_rq,
                   const std::int32_t* bias4) {
  const FastRq* q = group_rq->q;
  const ConvGeometry& g = *call.g;
  const Requantization& rq = *call.rq;
  const int channels = g.in_c;
  const std::int32_t offset2 = dup16(rq.input_offset);
  const std::uint32_t min4 = dup8(rq.act_min), max4 = dup8(rq.act_max);
  const int x_step = channels, row_step = g.in_w * channels;
  auto requantize = [&](std::int32_t acc, int k) {
    return kFast ? requantize_fast(acc, q[k]) : requantize_exact(acc, rq, c + k);
  };
  auto store = [&](const Accumulators4& acc, std::int8_t* y) {
    if (kFast) {
      store_4_fast(acc.a0, acc.a1, acc.a2, acc.a3, *group_rq, y);
      return;
    }
    const std::uint32_t lo = pack2_s8(requantize(acc.a0, 0), requantize(acc.a1, 1));
    const std::uint32_t hi = pack2_s8(requantize(acc.a2, 2), requantize(acc.a3, 3));
    store32(y, clamp4((lo & 0xFFFFu) | (hi << 16), min4, max4));
  };
  // Columns whose window lies inside the input: ox in [ox_begin, ox_end).
  const int ox_begin = g.pad_left > 0 ? (g.pad_left + g.stride_w - 1) / g.stride_w : 0;
  const int ox_last = g.in_w - 3 + g.pad_left >= 0 ? (g.in_w - 3 + g.pad_left) / g.stride_w : -1;
  const int ox_end = ox_last + 1 < g.out_w ? ox_last + 1 : g.out_w;
  std::int8_t* y = call.y + c;
  for (int b = 0; b < g.batches; ++b) {
    const std::int8_t* const x_image = call.x + b * g.in_h * row_step + c;
    for (int oy = 0; oy < g.out_h; ++oy) {
      const int iy0 = oy * g.stride_h - g.pad_top;
      const reference::TapRange ty = reference::tap_range(iy0, 3, 1, g.in_h);
      const bool rows_inside = ty.begin == 0 && ty.end == 3;
      for (int ox = 0; ox < g.out_w; ++ox, y += channels) {
        const int ix0 = ox * g.stride_w - g.pad_left;
        Accumulators4 acc{bias4[0], bias4[1], bias4[2], bias4[3]};
        if (rows_inside && ox >= ox_begin && ox < ox_end) {
          // The row's interior: no tap checks until its end.
          const std::int8_t* x = x_image + iy0 * row_step + ix0 * x_step;
          const int x_advance = g.stride_w * x_step;
          for (;;) {
            accumulate_9(x, x_step, row_step, w, offset2, acc);
            store(acc, y);
            if (++ox == ox_end) break;
            x += x_advance;
            y += channels;
            acc = Accumulators4{bias4[0], bias4[1], bias4[2], bias4[3]};
          }
          --ox;  // the for loop's increment moves past the last interior column
          continue;
        }
        const reference::TapRange tx = reference::tap_range(ix0, 3, 1, g.in_w);
        accumulate_taps(x_image + iy0 * row_step + ix0 * x_step, x_step, row_step, w, ty.begin, ty.end, tx.begin,
                        tx.end, offset2, acc);
        store(acc, y);
      }
    }
  }
}

// A channel of the last, incomplete group: plain loops, exact requantization.
void single_channel(const ConvCall& call, int c) {
  const ConvGeometry& g = *call.g;
  const Requantization& rq = *call.rq;
  const int channels = g.in_c;
  std::int8_t* y = call.y + c;
  for (int b = 0; b < g.batches; ++b) {
    for (int oy = 0; oy < g.out_h; ++oy) {
      const int iy0 = oy * g.stride_h - g.pad_top;
      const reference::TapRange ty = reference::tap_range(iy0, 3, 1, g.in_h);
      for (int ox = 0; ox < g.out_w; ++ox, y += channels) {
        const int ix0 = ox * g.stride_w - g.pad_left;
        const reference::TapRange tx = reference::tap_range(ix0, 3, 1, g.in_w);
        std::int32_t acc = bias_at(call.bias, c);
        for (int fy = ty.begin; fy < ty.end; ++fy) {
          for (int fx = tx.begin; fx < tx.end; ++fx) {
            const std::int8_t xv = call.x[((b * g.in_h + iy0 + fy) * g.in_w + ix0 + fx) * channels + c];
            acc += (xv + rq.input_offset) * call.w[(fy * 3 + fx) * channels + c];
          }
        }
        *y = static_cast<std::int8_t>(requantize_exact(acc, rq, c));
      }
    }
  }
}

}  // namespace

bool accepts_depthwise3x3(const ConvGeometry& g) {
  return g.filter_h == 3 && g.filter_w == 3 && g.depth_multiplier == 1 && g.in_c == g.out_c && g.dilation_h == 1 &&
         g.dilation_w == 1;
}

void run_depthwise3x3(const ConvCall& call) {
  const ConvGeometry& g = *call.g;
  const Requantization& rq = *call.rq;
  if (!act_range_is_int8(rq)) {
    reference::depthwise_conv2d(g, rq, call.x, call.w, call.bias, call.y);
    return;
  }
  const int channels = g.in_c;
  int c = 0;
  for (; c + 4 <= channels; c += 4) {
    Weights4 w;
    for (int k = 0; k < kTaps; ++k) {
      const std::uint32_t v = load32(call.w + k * channels + c);
      w.pair[k][0] = sxtb16_even(v);
      w.pair[k][1] = sxtb16_odd(v);
    }
    Group4Rq group_rq;
    group_rq.min4 = dup8(rq.act_min);
    group_rq.max4 = dup8(rq.act_max);
    std::int32_t bias4[4];
    bool fast = true;
    for (int k = 0; k < 4; ++k) {
      fast = make_fast_rq(rq, c + k, &group_rq.q[k]) && fast;
      bias4[k] = bias_at(call.bias, c + k);
    }
    if (fast) {
      channel_group<true>(call, c, w, &group_rq, bias4);
    } else {
      channel_group<false>(call, c, w, &group_rq, bias4);
    }
  }
  for (; c < channels; ++c) single_channel(call, c);
}

}  // namespace micronet_ad::kernels::dsp

#endif  // __ARM_FEATURE_DSP
