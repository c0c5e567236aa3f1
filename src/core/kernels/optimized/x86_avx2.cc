// AVX2 kernels: GEMM on vpmaddwd (activations widened to int16 with the input offset applied,
// a band of rows at a time, so no correction term and no saturation), depthwise on 8 int32 lanes.
// Every function carries its own target attribute (see x86_avx512.cc).
#if defined(__x86_64__)

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/optimized/optimized.h"

#define MNAD_AVX2 __attribute__((target("avx2")))

namespace micronet_ad::kernels::opt {
namespace {

MNAD_AVX2 inline __m256i srdhm(__m256i a, __m256i b) {  // see x86_avx512.cc
  const __m256i nudge = _mm256_set1_epi64x(std::int64_t{1} << 30);
  const __m256i even = _mm256_srli_epi64(_mm256_add_epi64(_mm256_mul_epi32(a, b), nudge), 31);
  const __m256i odd = _mm256_slli_epi64(
      _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(a, 32), _mm256_srli_epi64(b, 32)), nudge), 1);
  const __m256i r = _mm256_blend_epi32(even, odd, 0xAA);
  const __m256i min = _mm256_set1_epi32(INT32_MIN);
  const __m256i overflow = _mm256_and_si256(_mm256_cmpeq_epi32(a, min), _mm256_cmpeq_epi32(b, min));
  return _mm256_blendv_epi8(r, _mm256_set1_epi32(INT32_MAX), overflow);
}

MNAD_AVX2 inline __m256i rounding_divide_by_pot(__m256i x, __m256i e) {
  const __m256i one = _mm256_set1_epi32(1);
  const __m256i zero = _mm256_setzero_si256();
  const __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, e), one);
  const __m256i remainder = _mm256_and_si256(x, mask);
  const __m256i threshold = _mm256_sub_epi32(_mm256_srai_epi32(mask, 1), _mm256_cmpgt_epi32(zero, x));
  return _mm256_sub_epi32(_mm256_srav_epi32(x, e), _mm256_cmpgt_epi32(remainder, threshold));
}

struct OutParams {
  __m256i output_offset, act_min, act_max;
};

MNAD_AVX2 inline OutParams out_params(std::int32_t offset, std::int32_t lo, std::int32_t hi) {
  return OutParams{_mm256_set1_epi32(offset), _mm256_set1_epi32(lo), _mm256_set1_epi32(hi)};
}

// quant::requantize on 8 channels, stored as `count` (1..8) bytes.
MNAD_AVX2 inline void requantize8(__m256i acc, const std::int32_t* multipliers, const std::int32_t* shifts,
                                  const OutParams& o, std::int8_t* out, int count) {
  const __m256i zero = _mm256_setzero_si256();
  const __m256i shift = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(shifts));
  const __m256i left = _mm256_max_epi32(shift, zero);
  const __m256i right = _mm256_max_epi32(_mm256_sub_epi32(zero, shift), zero);
  __m256i v = _mm256_sllv_epi32(acc, left);
  v = srdhm(v, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(multipliers)));
  v = rounding_divide_by_pot(v, right);
  v = _mm256_add_epi32(v, o.output_offset);
  v = _mm256_min_epi32(_mm256_max_epi32(v, o.act_min), o.act_max);
  const __m128i p16 = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  const __m128i p8 = _mm_packs_epi16(p16, p16);
  if (count >= 8) {
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out), p8);
  } else {
    std::int8_t tmp[16];
    _mm_storeu_si128(reinterpret_cast<__m128i*>(tmp), p8);
    std::memcpy(out, tmp, static_cast<std::size_t>(count));
  }
}

// MR rows (int16, row stride k2) x NR·8 channels.
template <int MR, int NR>
MNAD_AVX2 void gemm_micro(const GemmArgs& a, const std::int16_t* xs, int k2, const std::int16_t* wp,
                          std::size_t wstride, int n0, std::int8_t* y) {
  __m256i acc[MR][NR];
  for (int i = 0; i < MR; ++i)
    for (int r = 0; r < NR; ++r) acc[i][r] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.corr + n0 + 8 * r));
  const int pairs = k2 / 2;
  for (int p = 0; p < pairs; ++p) {
    __m256i w[NR];
    for (int r = 0; r < NR; ++r)
      w[r] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wp + r * wstride + static_cast<std::size_t>(p) * 16));
    for (int i = 0; i < MR; ++i) {
      std::int32_t v;
      std::memcpy(&v, xs + static_cast<std::size_t>(i) * k2 + 2 * p, 4);
      const __m256i xb = _mm256_set1_epi32(v);
      for (int r = 0; r < NR; ++r) acc[i][r] = _mm256_add_epi32(acc[i][r], _mm256_madd_epi16(xb, w[r]));
    }
  }
  const OutParams o = out_params(a.output_offset, a.act_min, a.act_max);
  for (int r = 0; r < NR; ++r) {
    const int n = n0 + 8 * r;
    const int count = a.n - n < 8 ? a.n - n : 8;
    for (int i = 0; i < MR; ++i)
      requantize8(acc[i][r], a.multipliers + n, a.shifts + n, o, y + static_cast<std::size_t>(i) * a.n + n, count);
  }
}

using MicroFn = void (*)(const GemmArgs&, const std::int16_t*, int, const std::int16_t*, std::size_t, int, std::int8_t*);

template <int MR>
struct Row {
  static constexpr MicroFn fns[3] = {gemm_micro<MR, 1>, gemm_micro<MR, 2>, gemm_micro<MR, 3>};
};

constexpr const MicroFn* kMicro[kAvx2Rows] = {Row<1>::fns, Row<2>::fns, Row<3>::fns, Row<4>::fns};

}  // namespace

MNAD_AVX2 void gemm_avx2(const GemmArgs& a) {
  const int k2 = (a.k + 1) / 2 * 2;
  const std::size_t wstride = static_cast<std::size_t>(k2) * 8;  // int16 elements per 8-channel column
  const int vectors = (a.n + 7) / 8;  // vectors holding at least one real channel
  auto* xs = static_cast<std::int16_t*>(a.scratch);
  const auto* packed = reinterpret_cast<const std::int16_t*>(a.packed);
  for (int m0 = 0; m0 < a.m; m0 += kAvx2Rows) {
    const int mr = a.m - m0 < kAvx2Rows ? a.m - m0 : kAvx2Rows;
    for (int i = 0; i < mr; ++i) {
      const std::int8_t* row = a.x + static_cast<std::size_t>(m0 + i) * a.k;
      std::int16_t* dst = xs + static_cast<std::size_t>(i) * k2;
      for (int kk = 0; kk < a.k; ++kk) dst[kk] = static_cast<std::int16_t>(row[kk] + a.input_offset);
      if (k2 != a.k) dst[a.k] = 0;
    }
    std::int8_t* y = a.y + static_cast<std::size_t>(m0) * a.n;
    for (int j0 = 0; j0 < vectors; j0 += 3) {
      const int nr = vectors - j0 < 3 ? vectors - j0 : 3;
      kMicro[mr - 1][nr - 1](a, xs, k2, packed + static_cast<std::size_t>(j0) * wstride, wstride, j0 * 8, y);
    }
  }
}

MNAD_AVX2 void depthwise_avx2(const ConvGeometry& g, const Requantization& rq, const std::int8_t* x, const void* packed,
                              std::int8_t* y) {
  const int c = g.in_c;
  const int np = padded_channels(c);
  const auto* w32 = static_cast<const std::int32_t*>(packed);
  const std::int32_t* bias32 = w32 + static_cast<std::size_t>(g.filter_h) * g.filter_w * np;
  const __m256i offset = _mm256_set1_epi32(rq.input_offset);
  const OutParams o = out_params(rq.output_offset, rq.act_min, rq.act_max);
  for (int b = 0; b < g.batches; ++b)
    for (int oy = 0; oy < g.out_h; ++oy) {
      const int iy0 = oy * g.stride_h - g.pad_top;
      for (int ox = 0; ox < g.out_w; ++ox) {
        const int ix0 = ox * g.stride_w - g.pad_left;
        std::int8_t* out = y + ((static_cast<std::size_t>(b) * g.out_h + oy) * g.out_w + ox) * c;
        for (int c0 = 0; c0 < c; c0 += 8) {
          const int count = c - c0 < 8 ? c - c0 : 8;
          __m256i acc = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bias32 + c0));
          for (int fy = 0; fy < g.filter_h; ++fy) {
            const int iy = iy0 + fy * g.dilation_h;
            if (iy < 0 || iy >= g.in_h) continue;
            for (int fx = 0; fx < g.filter_w; ++fx) {
              const int ix = ix0 + fx * g.dilation_w;
              if (ix < 0 || ix >= g.in_w) continue;
              const std::int8_t* in = x + ((static_cast<std::size_t>(b) * g.in_h + iy) * g.in_w + ix) * c + c0;
              std::int64_t bytes = 0;
              std::memcpy(&bytes, in, static_cast<std::size_t>(count));
              const __m256i xv = _mm256_add_epi32(_mm256_cvtepi8_epi32(_mm_cvtsi64_si128(bytes)), offset);
              const __m256i wv = _mm256_loadu_si256(
                  reinterpret_cast<const __m256i*>(w32 + static_cast<std::size_t>(fy * g.filter_w + fx) * np + c0));
              acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(xv, wv));
            }
          }
          requantize8(acc, rq.multipliers + c0, rq.shifts + c0, o, out + c0, count);
        }
      }
    }
}

}  // namespace micronet_ad::kernels::opt

#endif  // __x86_64__
