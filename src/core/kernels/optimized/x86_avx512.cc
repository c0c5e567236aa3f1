// AVX-512 VNNI kernels: pointwise/im2col GEMM on vpdpbusd (u8 x s8), depthwise on 16 int32 lanes.
// Every function carries its own target attribute, so the rest of the program (and any inline
// function from a header) is compiled for the baseline ISA and runs anywhere.
#if defined(__x86_64__)

// GCC 12's AVX-512 intrinsics use `__m512i __Y = __Y;` for "undefined" operands, which trips
// -Wuninitialized when inlined (GCC PR 105593, fixed in GCC 13).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/optimized/optimized.h"

#define MNAD_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))

namespace micronet_ad::kernels::opt {
namespace {

// gemmlowp's SaturatingRoundingDoublingHighMul on 16 lanes. For a 64-bit product ab, the
// nudge-and-truncate of the reference equals floor((ab + 2^30) / 2^31) for both signs, so one
// add and a shift per 64-bit half suffice; bits 31..62 are the int32 result.
MNAD_AVX512 inline __m512i srdhm(__m512i a, __m512i b) {
  const __m512i nudge = _mm512_set1_epi64(std::int64_t{1} << 30);
  const __m512i even = _mm512_srli_epi64(_mm512_add_epi64(_mm512_mul_epi32(a, b), nudge), 31);
  const __m512i odd = _mm512_slli_epi64(
      _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(a, 32), _mm512_srli_epi64(b, 32)), nudge), 1);
  const __m512i r = _mm512_mask_blend_epi32(0xAAAA, even, odd);
  const __m512i min = _mm512_set1_epi32(INT32_MIN);
  const __mmask16 overflow = _mm512_cmpeq_epi32_mask(a, min) & _mm512_cmpeq_epi32_mask(b, min);
  return _mm512_mask_mov_epi32(r, overflow, _mm512_set1_epi32(INT32_MAX));
}

// gemmlowp's RoundingDivideByPOT with a per-lane exponent in [0, 31].
MNAD_AVX512 inline __m512i rounding_divide_by_pot(__m512i x, __m512i e) {
  const __m512i one = _mm512_set1_epi32(1);
  const __m512i mask = _mm512_sub_epi32(_mm512_sllv_epi32(one, e), one);
  const __m512i remainder = _mm512_and_si512(x, mask);
  __m512i threshold = _mm512_srai_epi32(mask, 1);
  threshold = _mm512_mask_add_epi32(threshold, _mm512_cmplt_epi32_mask(x, _mm512_setzero_si512()), threshold, one);
  const __m512i q = _mm512_srav_epi32(x, e);
  return _mm512_mask_add_epi32(q, _mm512_cmpgt_epi32_mask(remainder, threshold), q, one);
}

struct OutParams {
  __m512i output_offset, act_min, act_max;
};

// quant::requantize on 16 channels; acc already includes the bias (wrapping adds).
MNAD_AVX512 inline __m128i requantize16(__m512i acc, const std::int32_t* multipliers, const std::int32_t* shifts,
                                        const OutParams& o) {
  const __m512i zero = _mm512_setzero_si512();
  const __m512i shift = _mm512_loadu_si512(shifts);
  const __m512i left = _mm512_max_epi32(shift, zero);
  const __m512i right = _mm512_max_epi32(_mm512_sub_epi32(zero, shift), zero);
  __m512i v = _mm512_sllv_epi32(acc, left);  // wraps, like the reference's unsigned shift
  v = srdhm(v, _mm512_loadu_si512(multipliers));
  v = rounding_divide_by_pot(v, right);
  v = _mm512_add_epi32(v, o.output_offset);
  v = _mm512_min_epi32(_mm512_max_epi32(v, o.act_min), o.act_max);
  return _mm512_cvtepi32_epi8(v);
}

MNAD_AVX512 inline OutParams out_params(std::int32_t offset, std::int32_t lo, std::int32_t hi) {
  return OutParams{_mm512_set1_epi32(offset), _mm512_set1_epi32(lo), _mm512_set1_epi32(hi)};
}

MNAD_AVX512 inline std::int32_t load_biased4(const std::int8_t* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return static_cast<std::int32_t>(v ^ 0x80808080u);
}

// MR rows x NR·16 channels. x: first row; wp: first packed column vector; y: first output row.
template <int MR, int NR>
MNAD_AVX512 void gemm_micro(const GemmArgs& a, const std::int8_t* x, const std::int8_t* wp, std::size_t wstride,
                            int n0, std::int8_t* y) {
  __m512i acc[MR][NR];
  for (int i = 0; i < MR; ++i)
    for (int r = 0; r < NR; ++r) acc[i][r] = _mm512_setzero_si512();
  const int k = a.k;
  const int full = k / 4;
  for (int g = 0; g < full; ++g) {
    __m512i w[NR];
    for (int r = 0; r < NR; ++r) w[r] = _mm512_loadu_si512(wp + r * wstride + static_cast<std::size_t>(g) * 64);
    for (int i = 0; i < MR; ++i) {
      const __m512i xb = _mm512_set1_epi32(load_biased4(x + static_cast<std::size_t>(i) * k + 4 * g));
      for (int r = 0; r < NR; ++r) acc[i][r] = _mm512_dpbusd_epi32(acc[i][r], xb, w[r]);
    }
  }
  if (const int tail = k % 4) {  // the packed weights are zero past k: any activation byte works
    __m512i w[NR];
    for (int r = 0; r < NR; ++r) w[r] = _mm512_loadu_si512(wp + r * wstride + static_cast<std::size_t>(full) * 64);
    for (int i = 0; i < MR; ++i) {
      std::uint32_t v = 0;
      std::memcpy(&v, x + static_cast<std::size_t>(i) * k + 4 * full, static_cast<std::size_t>(tail));
      const __m512i xb = _mm512_set1_epi32(static_cast<std::int32_t>(v ^ 0x80808080u));
      for (int r = 0; r < NR; ++r) acc[i][r] = _mm512_dpbusd_epi32(acc[i][r], xb, w[r]);
    }
  }
  const OutParams o = out_params(a.output_offset, a.act_min, a.act_max);
  for (int r = 0; r < NR; ++r) {
    const int n = n0 + 16 * r;
    const __m512i corr = _mm512_loadu_si512(a.corr + n);
    const int valid = a.n - n;
    const __mmask16 store = valid >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << valid) - 1);
    for (int i = 0; i < MR; ++i) {
      const __m128i out = requantize16(_mm512_add_epi32(acc[i][r], corr), a.multipliers + n, a.shifts + n, o);
      _mm_mask_storeu_epi8(y + static_cast<std::size_t>(i) * a.n + n, store, out);
    }
  }
}

using MicroFn = void (*)(const GemmArgs&, const std::int8_t*, const std::int8_t*, std::size_t, int, std::int8_t*);

template <int MR>
struct Row {
  static constexpr MicroFn fns[4] = {gemm_micro<MR, 1>, gemm_micro<MR, 2>, gemm_micro<MR, 3>, gemm_micro<MR, 4>};
};

constexpr const MicroFn* kMicro[kAvx512Rows] = {Row<1>::fns, Row<2>::fns, Row<3>::fns,
                                                Row<4>::fns, Row<5>::fns, Row<6>::fns};

}  // namespace

MNAD_AVX512 void gemm_avx512vnni(const GemmArgs& a) {
  const std::size_t wstride = static_cast<std::size_t>((a.k + 3) / 4) * 64;
  const int vectors = padded_channels(a.n) / 16;
  for (int j0 = 0; j0 < vectors; j0 += 4) {
    const int nr = vectors - j0 < 4 ? vectors - j0 : 4;
    const std::int8_t* wp = a.packed + static_cast<std::size_t>(j0) * wstride;
    for (int m0 = 0; m0 < a.m; m0 += kAvx512Rows) {
      const int mr = a.m - m0 < kAvx512Rows ? a.m - m0 : kAvx512Rows;
      kMicro[mr - 1][nr - 1](a, a.x + static_cast<std::size_t>(m0) * a.k, wp, wstride, j0 * 16,
                             a.y + static_cast<std::size_t>(m0) * a.n);
    }
  }
}

namespace {

// One 16-channel block of a depthwise convolution over the whole map. FH/FW > 0: a fixed filter
// size with unit dilation, fully unrolled with the weights in registers; 0: any size (runtime).
template <int FH, int FW>
MNAD_AVX512 void depthwise_block(const ConvGeometry& g, const Requantization& rq, const std::int8_t* xb,
                                 const std::int32_t* w32, int np, __m512i bias, __mmask16 mask, int c0,
                                 const OutParams& o, std::int8_t* yb) {
  const int c = g.in_c;
  const int fh = FH > 0 ? FH : g.filter_h, fw = FW > 0 ? FW : g.filter_w;
  const int dh = FH > 0 ? 1 : g.dilation_h, dw = FW > 0 ? 1 : g.dilation_w;
  const __m512i offset = _mm512_set1_epi32(rq.input_offset);
  __m512i wreg[FH > 0 ? FH * FW : 1];
  if (FH > 0)
    for (int t = 0; t < FH * FW; ++t) wreg[t] = _mm512_loadu_si512(w32 + static_cast<std::size_t>(t) * np + c0);
  for (int oy = 0; oy < g.out_h; ++oy) {
    const int iy0 = oy * g.stride_h - g.pad_top;
    std::int8_t* out = yb + static_cast<std::size_t>(oy) * g.out_w * c + c0;
    for (int ox = 0; ox < g.out_w; ++ox) {
      const int ix0 = ox * g.stride_w - g.pad_left;
      __m512i acc = bias;
      for (int fy = 0; fy < fh; ++fy) {
        const int iy = iy0 + fy * dh;
        if (iy < 0 || iy >= g.in_h) continue;
        const std::int8_t* row = xb + static_cast<std::size_t>(iy) * g.in_w * c + c0;
        for (int fx = 0; fx < fw; ++fx) {
          const int ix = ix0 + fx * dw;
          if (ix < 0 || ix >= g.in_w) continue;
          const int t = fy * fw + fx;
          const __m512i xv = _mm512_add_epi32(
              _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(mask, row + static_cast<std::size_t>(ix) * c)), offset);
          const __m512i wv = FH > 0 ? wreg[t] : _mm512_loadu_si512(w32 + static_cast<std::size_t>(t) * np + c0);
          acc = _mm512_add_epi32(acc, _mm512_mullo_epi32(xv, wv));
        }
      }
      _mm_mask_storeu_epi8(out + static_cast<std::size_t>(ox) * c, mask,
                           requantize16(acc, rq.multipliers + c0, rq.shifts + c0, o));
    }
  }
}

}  // namespace

MNAD_AVX512 void depthwise_avx512(const ConvGeometry& g, const Requantization& rq, const std::int8_t* x,
                                  const std::int32_t* w32, const std::int32_t* bias32, std::int8_t* y) {
  const int c = g.in_c;
  const int np = padded_channels(c);
  const bool k3 = g.filter_h == 3 && g.filter_w == 3 && g.dilation_h == 1 && g.dilation_w == 1;
  const OutParams o = out_params(rq.output_offset, rq.act_min, rq.act_max);
  for (int b = 0; b < g.batches; ++b) {
    const std::int8_t* xb = x + static_cast<std::size_t>(b) * g.in_h * g.in_w * c;
    std::int8_t* yb = y + static_cast<std::size_t>(b) * g.out_h * g.out_w * c;
    for (int c0 = 0; c0 < c; c0 += 16) {
      const __mmask16 mask = c - c0 >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << (c - c0)) - 1);
      const __m512i bias = _mm512_loadu_si512(bias32 + c0);
      if (k3) depthwise_block<3, 3>(g, rq, xb, w32, np, bias, mask, c0, o, yb);
      else depthwise_block<0, 0>(g, rq, xb, w32, np, bias, mask, c0, o, yb);
    }
  }
}

}  // namespace micronet_ad::kernels::opt

#endif  // __x86_64__
