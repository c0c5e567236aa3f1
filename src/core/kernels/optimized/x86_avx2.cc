// AVX2 kernels: GEMM on vpmaddwd (activations widened to int16 with the input offset applied,
// a band of rows at a time, so no correction term and no saturation), depthwise on vpmaddwd with
// 16 channels in the lanes and packed tap pairs, and the AVX-512 path's one-step requantization.
// Every function carries its own target attribute (see x86_avx512.cc).
#if defined(__x86_64__)

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/optimized/optimized.h"

#define MNAD_AVX2 __attribute__((target("avx2")))

namespace micronet_ad::kernels::opt {
namespace {

// quant::multiply_by_quantized_multiplier on 8 lanes with both roundings fused into one 64-bit
// add-and-shift, exactly as x86_avx512.cc derives it:
//   (p + 2^30 + [e > 0]·2^(30+e) − [e > 0 and p < −2^30]·2^31) >> (31 + e), clamped to INT32_MAX.
// AVX2 has no 64-bit arithmetic shift or min; they are built from logical shifts and compares.
// Per-8-channel constants, computed once per block of channels.
struct Rq8 {
  __m256i left;          // left shift (int32 lanes)
  __m256i mul_e, mul_o;  // multipliers of the even / odd channels in the low half of each qword
  __m256i add_e, add_o;  // 2^30 + [e > 0]·2^(30+e)
  __m256i neg_e, neg_o;  // [e > 0]·2^31, taken off when p < −2^30
  __m256i sh_e, sh_o;    // 31 + e
  bool any_left;  // some lane shifts left
  bool saturate;  // some multiplier is INT32_MIN: a = b = INT32_MIN can overflow the high mul
};

MNAD_AVX2 inline Rq8 make_rq8(const std::int32_t* multipliers, const std::int32_t* shifts) {
  const __m256i zero = _mm256_setzero_si256();
  const __m256i shift = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(shifts));
  const __m256i m = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(multipliers));
  const __m256i e = _mm256_max_epi32(_mm256_sub_epi32(zero, shift), zero);
  Rq8 q;
  q.left = _mm256_max_epi32(shift, zero);
  q.any_left = !_mm256_testz_si256(q.left, q.left);
  q.saturate = _mm256_movemask_epi8(_mm256_cmpeq_epi32(m, _mm256_set1_epi32(INT32_MIN))) != 0;
  q.mul_e = m;
  q.mul_o = _mm256_srli_epi64(m, 32);
  const __m256i e_half[2] = {_mm256_and_si256(e, _mm256_set1_epi64x(0xFFFFFFFF)), _mm256_srli_epi64(e, 32)};
  const __m256i base = _mm256_set1_epi64x(std::int64_t{1} << 30);
  const __m256i half = _mm256_set1_epi64x(std::int64_t{1} << 31);
  __m256i add[2], neg[2], sh[2];
  for (int h = 0; h < 2; ++h) {
    const __m256i positive = _mm256_cmpgt_epi64(e_half[h], zero);
    add[h] = _mm256_add_epi64(base, _mm256_and_si256(positive, _mm256_sllv_epi64(base, e_half[h])));
    neg[h] = _mm256_and_si256(positive, half);
    sh[h] = _mm256_add_epi64(e_half[h], _mm256_set1_epi64x(31));
  }
  q.add_e = add[0]; q.add_o = add[1];
  q.neg_e = neg[0]; q.neg_o = neg[1];
  q.sh_e = sh[0]; q.sh_o = sh[1];
  return q;
}

MNAD_AVX2 inline __m256i round_shift64(__m256i p, __m256i add, __m256i neg, __m256i sh) {
  const __m256i negative = _mm256_cmpgt_epi64(_mm256_set1_epi64x(-(std::int64_t{1} << 30)), p);
  const __m256i v = _mm256_sub_epi64(_mm256_add_epi64(p, add), _mm256_and_si256(negative, neg));
  // Arithmetic shift from a logical one: v >> s = ~(~v >>> s) for v < 0.
  const __m256i sign = _mm256_cmpgt_epi64(_mm256_setzero_si256(), v);
  return _mm256_xor_si256(_mm256_srlv_epi64(_mm256_xor_si256(v, sign), sh), sign);
}

// quant::requantize up to the activation clamp on 8 lanes (acc already includes the bias): the
// int32 result plus the output offset. Callers narrow with saturation to int8 and clamp bytes to
// [act_min, act_max] ⊂ [−128, 127], which equals clamping the int32.
MNAD_AVX2 inline __m256i requantize8(__m256i acc, const Rq8& q, __m256i output_offset) {
  if (q.any_left) acc = _mm256_sllv_epi32(acc, q.left);  // wraps, like the reference's unsigned shift
  __m256i even = round_shift64(_mm256_mul_epi32(acc, q.mul_e), q.add_e, q.neg_e, q.sh_e);
  __m256i odd = round_shift64(_mm256_mul_epi32(_mm256_srli_epi64(acc, 32), q.mul_o), q.add_o, q.neg_o, q.sh_o);
  if (q.saturate) {
    const __m256i max = _mm256_set1_epi64x(INT32_MAX);
    even = _mm256_blendv_epi8(even, max, _mm256_cmpgt_epi64(even, max));
    odd = _mm256_blendv_epi8(odd, max, _mm256_cmpgt_epi64(odd, max));
  }
  return _mm256_add_epi32(_mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA), output_offset);
}

struct OutParams {
  __m256i output_offset;
  __m128i act_min, act_max;  // bytes
};

MNAD_AVX2 inline OutParams out_params(std::int32_t offset, std::int32_t lo, std::int32_t hi) {
  return OutParams{_mm256_set1_epi32(offset), _mm_set1_epi8(static_cast<char>(lo)), _mm_set1_epi8(static_cast<char>(hi))};
}

MNAD_AVX2 inline __m128i clamp_bytes(__m128i v, const OutParams& o) {
  return _mm_min_epi8(_mm_max_epi8(v, o.act_min), o.act_max);
}

// Stores the first `count` (1..16) bytes of v.
MNAD_AVX2 inline void store_bytes(std::int8_t* out, __m128i v, int count) {
  if (count >= 16) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), v);
  } else if (count == 8) {
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out), v);
  } else {
    alignas(16) std::int8_t tmp[16];
    _mm_store_si128(reinterpret_cast<__m128i*>(tmp), v);
    for (int i = 0; i < count; ++i) out[i] = tmp[i];
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
    const Rq8 rq = make_rq8(a.multipliers + n, a.shifts + n);
    for (int i = 0; i < MR; ++i) {
      const __m256i v = requantize8(acc[i][r], rq, o.output_offset);
      const __m128i p16 = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
      store_bytes(y + static_cast<std::size_t>(i) * a.n + n, clamp_bytes(_mm_packs_epi16(p16, p16), o), count);
    }
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
      const std::int8_t* row = a.x + static_cast<std::size_t>(m0 + i) * static_cast<std::size_t>(a.lda > 0 ? a.lda : a.k);
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

namespace {

constexpr int kDwChunk = 16;  // channels per chunk: one xmm of int8, two ymm of int32 accumulators

// Loads channels c0.. of one tap: 16 bytes, or `count` < 16 through a zero-filled copy.
MNAD_AVX2 inline __m256i load_tap(const std::int8_t* src, int count) {
  if (count >= kDwChunk) return _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src)));
  alignas(16) std::int8_t tmp[kDwChunk] = {};
  for (int i = 0; i < count; ++i) tmp[i] = src[i];
  return _mm256_cvtepi8_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(tmp)));
}

// 16 channels (the first `count` real) of one output pixel; src[t] is tap t's input (or a row of
// zero points for a padded tap). w: the chunk's packed tap pairs, lo then hi (see optimized.h).
MNAD_AVX2 inline __m128i depthwise_pixel(const std::int8_t* const* src, int taps, int count, const __m256i* w,
                                         __m256i bias_lo, __m256i bias_hi, const Rq8& rq_lo, const Rq8& rq_hi,
                                         const OutParams& o) {
  __m256i lo = bias_lo, hi = bias_hi;
  for (int t = 0; t < taps; t += 2) {
    const __m256i a = load_tap(src[t], count);
    const __m256i b = t + 1 < taps ? load_tap(src[t + 1], count) : a;  // its weight is 0
    lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(a, b), _mm256_loadu_si256(w + t)));
    hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(a, b), _mm256_loadu_si256(w + t + 1)));
  }
  // lo holds channels 0-3 and 8-11, hi 4-7 and 12-15: vpackssdw packs per 128-bit lane (lo's
  // four, then hi's four), which restores the order; both narrowings saturate.
  const __m256i v16 = _mm256_packs_epi32(requantize8(lo, rq_lo, o.output_offset), requantize8(hi, rq_hi, o.output_offset));
  return clamp_bytes(_mm_packs_epi16(_mm256_castsi256_si128(v16), _mm256_extracti128_si256(v16, 1)), o);
}

// Requantization constants for one half of a chunk, in the packed lane order.
MNAD_AVX2 Rq8 chunk_rq8(const Requantization& rq, int channels, int c0, int half) {
  alignas(32) std::int32_t m[8], s[8];
  for (int i = 0; i < 8; ++i) {
    const int ch = c0 + 8 * (i / 4) + 4 * half + i % 4;
    m[i] = ch < channels ? rq.multipliers[ch] : 0;
    s[i] = ch < channels ? rq.shifts[ch] : 0;
  }
  return make_rq8(m, s);
}

}  // namespace

MNAD_AVX2 void depthwise_avx2(const ConvGeometry& g, const Requantization& rq, const std::int8_t* x, const void* packed,
                              std::int8_t* y) {
  const int c = g.in_c, taps = g.filter_h * g.filter_w;
  const int pairs = (taps + 1) / 2;
  const std::size_t chunk_vectors = static_cast<std::size_t>(pairs + 1) * 2;
  const OutParams o = out_params(rq.output_offset, rq.act_min, rq.act_max);
  alignas(16) std::int8_t zero_points[kDwChunk];  // what a padded tap reads
  for (auto& v : zero_points) v = static_cast<std::int8_t>(-rq.input_offset);
  const std::int8_t* src[kMaxDepthwiseTaps];   // each tap's input for the current pixel
  const std::int8_t* rows[kMaxDepthwiseTaps];  // each filter row's input row, or null
  const std::size_t row_bytes = static_cast<std::size_t>(g.in_w) * c;
  for (int b = 0; b < g.batches; ++b) {
    const std::int8_t* xb = x + static_cast<std::size_t>(b) * g.in_h * row_bytes;
    std::int8_t* yb = y + static_cast<std::size_t>(b) * g.out_h * g.out_w * c;
    for (int c0 = 0; c0 < c; c0 += kDwChunk) {
      const int count = c - c0 < kDwChunk ? c - c0 : kDwChunk;
      const auto* w = static_cast<const __m256i*>(packed) + static_cast<std::size_t>(c0 / kDwChunk) * chunk_vectors;
      const __m256i bias_lo = _mm256_loadu_si256(w + 2 * pairs), bias_hi = _mm256_loadu_si256(w + 2 * pairs + 1);
      const Rq8 rq_lo = chunk_rq8(rq, c, c0, 0), rq_hi = chunk_rq8(rq, c, c0, 1);
      for (int oy = 0; oy < g.out_h; ++oy) {
        const int iy0 = oy * g.stride_h - g.pad_top;
        for (int fy = 0; fy < g.filter_h; ++fy) {
          const int iy = iy0 + fy * g.dilation_h;
          rows[fy] = iy >= 0 && iy < g.in_h ? xb + static_cast<std::size_t>(iy) * row_bytes + c0 : nullptr;
        }
        for (int ox = 0; ox < g.out_w; ++ox) {
          const int ix0 = ox * g.stride_w - g.pad_left;
          const bool cols_in = ix0 >= 0 && ix0 + (g.filter_w - 1) * g.dilation_w < g.in_w;  // the usual case
          for (int fy = 0; fy < g.filter_h; ++fy)
            for (int fx = 0; fx < g.filter_w; ++fx) {
              const int ix = ix0 + fx * g.dilation_w;
              const bool in = rows[fy] != nullptr && (cols_in || (ix >= 0 && ix < g.in_w));
              src[fy * g.filter_w + fx] = in ? rows[fy] + static_cast<std::ptrdiff_t>(ix) * c : zero_points;
            }
          const __m128i v = depthwise_pixel(src, taps, count, w, bias_lo, bias_hi, rq_lo, rq_hi, o);
          store_bytes(yb + (static_cast<std::size_t>(oy) * g.out_w + ox) * c + c0, v, count);
        }
      }
    }
  }
}

}  // namespace micronet_ad::kernels::opt

#endif  // __x86_64__
