// AVX-512 VNNI kernels: pointwise/im2col GEMM on vpdpbusd (u8 x s8), depthwise on vpdpwssd with
// 32 channels in the lanes, and a requantization that fuses gemmlowp's two roundings.
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

#include "kernels/geometry.h"
#include "kernels/optimized/optimized.h"

#define MNAD_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))

namespace micronet_ad::kernels::opt {
namespace {

// GCC 12 keeps vpdpbusd accumulators in memory when they live in arrays (it copies the tied
// operand and spills every iteration); the asm form pins them to registers.
MNAD_AVX512 inline __m512i dpbusd(__m512i acc, __m512i u8, __m512i s8) {
  __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(u8), "v"(s8));
  return acc;
}
MNAD_AVX512 inline __m512i dpwssd(__m512i acc, __m512i a, __m512i b) {
  __asm__("vpdpwssd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b));
  return acc;
}

// quant::multiply_by_quantized_multiplier on 16 lanes, both roundings fused into one 64-bit
// add-and-shift. With p = a·b (64-bit) and e the right shift:
//   SaturatingRoundingDoublingHighMul: r = floor((p + 2^30) / 2^31)   (its nudge-and-truncate,
//     for both signs; saturates to INT32_MAX when a = b = INT32_MIN, where r would be 2^31)
//   RoundingDivideByPOT(r, e): floor((r + 2^(e-1) − [r < 0]) / 2^e) for e > 0, r for e = 0
// and floor((floor(X / 2^31) + c) / 2^e) = floor((X + c·2^31) / 2^(31+e)), so the result is
//   (p + 2^30 + [e > 0]·2^(30+e) − [e > 0 and p < −2^30]·2^31) >> (31 + e),
// clamped to INT32_MAX (that clamp is the saturation, needed only for a multiplier of INT32_MIN:
// for e > 0 rounding 2^31 and 2^31 − 1 gives the same result). |p| ≤ 2^62: no 64-bit overflow.
//
// The usual case takes a shorter road. When the activation clamp's floor is at or above the
// output zero point (RELU, RELU6), every negative accumulator ends at act_min, and so does 0:
// clamping acc at 0 first changes no output and removes the sign fix-up. With 1 ≤ e ≤ 23 and
// 0 ≤ m < 2^31 the output offset folds into the added constant (zp·2^(31+e), |·| < 2^62), and the
// odd lanes shift by e − 1 instead of 31 + e, which leaves their result in the high dword where a
// blend picks it up: nine instructions per 16 outputs instead of fifteen.
struct Rq16 {
  bool fast;             // the short road (see above) holds for all 16 lanes
  bool any_left;         // some lane shifts left
  bool saturate;         // some multiplier is INT32_MIN: a = b = INT32_MIN can overflow the high mul
  __m512i left;          // left shift (int32 lanes)
  __m512i mul_e, mul_o;  // multipliers of the even / odd channels in the low half of each qword
  __m512i add_e, add_o;  // 2^30 + [e > 0]·2^(30+e) (+ zp·2^(31+e) on the short road)
  __m512i neg_e, neg_o;  // [e > 0]·2^31, taken off when p < −2^30 (a negative high-mul result)
  __m512i sh_e, sh_o;    // 31 + e (short road, odd lanes: e − 1)
};

// `floor_at_zero`: act_min ≥ output_offset, so every accumulator ≤ 0 gives act_min.
MNAD_AVX512 inline Rq16 make_rq16(const std::int32_t* multipliers, const std::int32_t* shifts,
                                  std::int32_t output_offset, bool floor_at_zero) {
  const __m512i zero = _mm512_setzero_si512();
  const __m512i shift = _mm512_loadu_si512(shifts);
  const __m512i m = _mm512_loadu_si512(multipliers);
  const __m512i e = _mm512_max_epi32(_mm512_sub_epi32(zero, shift), zero);
  Rq16 q;
  q.left = _mm512_max_epi32(shift, zero);
  q.any_left = _mm512_test_epi32_mask(q.left, q.left) != 0;
  q.saturate = _mm512_cmpeq_epi32_mask(m, _mm512_set1_epi32(INT32_MIN)) != 0;
  q.fast = floor_at_zero && output_offset >= -128 && output_offset <= 127 && _mm512_cmplt_epi32_mask(m, zero) == 0 &&
           _mm512_cmplt_epi32_mask(shift, _mm512_set1_epi32(-23)) == 0 &&
           _mm512_cmpgt_epi32_mask(shift, _mm512_set1_epi32(-1)) == 0;
  q.mul_e = m;
  q.mul_o = _mm512_srli_epi64(m, 32);
  const __m512i e_e = _mm512_and_si512(e, _mm512_set1_epi64(0xFFFFFFFF));
  const __m512i e_o = _mm512_srli_epi64(e, 32);
  const __m512i base = _mm512_set1_epi64(std::int64_t{1} << 30);
  const __m512i half = _mm512_set1_epi64(std::int64_t{1} << 31);
  const __m512i e_pos[2] = {e_e, e_o};
  __m512i add[2], neg[2], sh[2];
  for (int h = 0; h < 2; ++h) {
    const __mmask8 positive = _mm512_test_epi64_mask(e_pos[h], e_pos[h]);
    add[h] = _mm512_mask_add_epi64(base, positive, base, _mm512_sllv_epi64(base, e_pos[h]));
    neg[h] = _mm512_maskz_mov_epi64(positive, half);
    sh[h] = _mm512_add_epi64(e_pos[h], _mm512_set1_epi64(31));
    if (q.fast) {
      const __m512i zp = _mm512_sllv_epi64(_mm512_set1_epi64(output_offset), sh[h]);  // zp·2^(31+e), exact
      add[h] = _mm512_add_epi64(add[h], zp);
    }
  }
  if (q.fast) sh[1] = _mm512_sub_epi64(e_o, _mm512_set1_epi64(1));
  q.add_e = add[0];
  q.add_o = add[1];
  q.neg_e = neg[0];
  q.neg_o = neg[1];
  q.sh_e = sh[0];
  q.sh_o = sh[1];
  return q;
}

MNAD_AVX512 inline __m512i round_shift64(__m512i p, __m512i add, __m512i neg, __m512i sh) {
  const __mmask8 negative = _mm512_cmplt_epi64_mask(p, _mm512_set1_epi64(-(std::int64_t{1} << 30)));
  __m512i v = _mm512_add_epi64(p, add);
  v = _mm512_mask_sub_epi64(v, negative, v, neg);
  return _mm512_srav_epi64(v, sh);
}

// quant::requantize up to the activation clamp on 16 lanes (acc already includes the bias): the
// int32 result plus the output offset. Callers narrow with saturation to int8 and then clamp to
// [act_min, act_max] ⊂ [−128, 127] with byte min/max, which equals clamping the int32.
MNAD_AVX512 inline __m512i requantize16(__m512i acc, const Rq16& q, __m512i output_offset) {
  if (q.fast) {
    acc = _mm512_max_epi32(acc, _mm512_setzero_si512());
    const __m512i even = _mm512_srav_epi64(_mm512_add_epi64(_mm512_mul_epu32(acc, q.mul_e), q.add_e), q.sh_e);
    const __m512i odd =
        _mm512_srav_epi64(_mm512_add_epi64(_mm512_mul_epu32(_mm512_srli_epi64(acc, 32), q.mul_o), q.add_o), q.sh_o);
    return _mm512_mask_blend_epi32(0xAAAA, even, odd);
  }
  if (q.any_left) acc = _mm512_sllv_epi32(acc, q.left);  // wraps, like the reference's unsigned shift
  __m512i even = round_shift64(_mm512_mul_epi32(acc, q.mul_e), q.add_e, q.neg_e, q.sh_e);
  __m512i odd = round_shift64(_mm512_mul_epi32(_mm512_srli_epi64(acc, 32), q.mul_o), q.add_o, q.neg_o, q.sh_o);
  if (q.saturate) {
    even = _mm512_min_epi64(even, _mm512_set1_epi64(INT32_MAX));
    odd = _mm512_min_epi64(odd, _mm512_set1_epi64(INT32_MAX));
  }
  const __m512i interleave = _mm512_setr_epi32(0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30);
  return _mm512_add_epi32(_mm512_permutex2var_epi32(even, interleave, odd), output_offset);
}

struct OutParams {
  __m512i output_offset;
  __m128i act_min, act_max;  // bytes
};

MNAD_AVX512 inline OutParams out_params(std::int32_t offset, std::int32_t lo, std::int32_t hi) {
  return OutParams{_mm512_set1_epi32(offset), _mm_set1_epi8(static_cast<char>(lo)),
                   _mm_set1_epi8(static_cast<char>(hi))};
}

MNAD_AVX512 inline __m128i clamp16(__m128i v, const OutParams& o) {
  return _mm_min_epi8(_mm_max_epi8(v, o.act_min), o.act_max);
}

// Narrows four requantized vectors of one row of a permuted 64-channel block (see optimized.h)
// to 64 bytes in channel order: both packs saturate, which composes to int32 → int8 saturation.
MNAD_AVX512 inline __m512i narrow64(__m512i v0, __m512i v1, __m512i v2, __m512i v3, const OutParams& o) {
  const __m512i b = _mm512_packs_epi16(_mm512_packs_epi32(v0, v1), _mm512_packs_epi32(v2, v3));
  return _mm512_min_epi8(_mm512_max_epi8(b, _mm512_broadcast_i32x4(o.act_min)), _mm512_broadcast_i32x4(o.act_max));
}

// MR rows x NR·16 channels. x: first row; wp: first packed column vector; y: first output row;
// rowterm: −128·Σx of each row. The accumulators start at the per-channel correction (bias and
// offsets, see optimized.h) plus the row's term.
template <int MR, int NR>
MNAD_AVX512 void gemm_micro(const GemmArgs& a, const Rq16* rq, const std::int8_t* x, const std::int8_t* wp,
                            std::size_t wstride, int n0, const std::int32_t* rowterm, std::int8_t* y) {
  __m512i acc[MR][NR];
  for (int r = 0; r < NR; ++r) {
    const __m512i corr = _mm512_loadu_si512(a.corr + n0 + 16 * r);
    for (int i = 0; i < MR; ++i) acc[i][r] = _mm512_add_epi32(corr, _mm512_set1_epi32(rowterm[i]));
  }
  const int k = a.k;
  const std::size_t lda = static_cast<std::size_t>(a.lda > 0 ? a.lda : k);
  // Whole groups of four bytes; with rows padded to whole dwords that includes the last one.
  const int full = lda >= static_cast<std::size_t>(k + 3) / 4 * 4 ? (k + 3) / 4 : k / 4;
  for (int g = 0; g < full; ++g) {
    __m512i w[NR];
    for (int r = 0; r < NR; ++r) w[r] = _mm512_loadu_si512(wp + r * wstride + static_cast<std::size_t>(g) * 64);
    for (int i = 0; i < MR; ++i) {
      std::int32_t v;
      std::memcpy(&v, x + i * lda + 4 * static_cast<std::size_t>(g), 4);
      const __m512i xb = _mm512_set1_epi32(v);
      for (int r = 0; r < NR; ++r) acc[i][r] = dpbusd(acc[i][r], w[r], xb);
    }
  }
  if (const int tail = k - 4 * full; tail > 0) {  // the packed weights are zero past k: any byte works
    __m512i w[NR];
    for (int r = 0; r < NR; ++r) w[r] = _mm512_loadu_si512(wp + r * wstride + static_cast<std::size_t>(full) * 64);
    for (int i = 0; i < MR; ++i) {
      // Byte by byte: a variable-length memcpy would be a library call, which spills every
      // accumulator around it.
      const std::int8_t* p = x + i * lda + 4 * static_cast<std::size_t>(full);
      std::uint32_t v = 0;
      for (int b = 0; b < tail; ++b) v |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(p[b])) << (8 * b);
      const __m512i xb = _mm512_set1_epi32(static_cast<std::int32_t>(v));
      for (int r = 0; r < NR; ++r) acc[i][r] = dpbusd(acc[i][r], w[r], xb);
    }
  }
  const OutParams o = out_params(a.output_offset, a.act_min, a.act_max);
  if constexpr (NR == kAvx512BlockVectors) {
    if (n0 + 16 * kAvx512BlockVectors <= a.n) {  // a whole, permuted block
      for (int i = 0; i < MR; ++i) {
        __m512i v[kAvx512BlockVectors];
        for (int r = 0; r < kAvx512BlockVectors; ++r) v[r] = requantize16(acc[i][r], rq[r], o.output_offset);
        _mm512_storeu_si512(y + static_cast<std::size_t>(i) * a.n + n0, narrow64(v[0], v[1], v[2], v[3], o));
      }
      return;
    }
  }
  for (int r = 0; r < NR; ++r) {
    const int n = n0 + 16 * r;
    const int valid = a.n - n;
    for (int i = 0; i < MR; ++i) {
      const __m128i out = clamp16(_mm512_cvtsepi32_epi8(requantize16(acc[i][r], rq[r], o.output_offset)), o);
      std::int8_t* dst = y + static_cast<std::size_t>(i) * a.n + n;
      if (valid >= 16)
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), out);
      else
        _mm_mask_storeu_epi8(dst, static_cast<__mmask16>((1u << valid) - 1), out);
    }
  }
}

using MicroFn = void (*)(const GemmArgs&, const Rq16*, const std::int8_t*, const std::int8_t*, std::size_t, int,
                         const std::int32_t*, std::int8_t*);

template <int MR>
struct Row {
  static constexpr MicroFn fns[4] = {gemm_micro<MR, 1>, gemm_micro<MR, 2>, gemm_micro<MR, 3>, gemm_micro<MR, 4>};
};

constexpr const MicroFn* kMicro[kAvx512Rows] = {Row<1>::fns, Row<2>::fns, Row<3>::fns,
                                                Row<4>::fns, Row<5>::fns, Row<6>::fns};

// −128·Σx of each of the m rows (mod 2^32, like the accumulators): vpdpbusd of unsigned ones with
// the signed activations, 64 bytes at a time.
MNAD_AVX512 void row_terms(const std::int8_t* x, int m, int k, std::size_t lda, std::int32_t* out) {
  const __m512i ones = _mm512_set1_epi8(1);
  const int full = k / 64;
  const __mmask64 tail = (k % 64) != 0 ? (~__mmask64{0} >> (64 - k % 64)) : 0;
  for (int i = 0; i < m; ++i) {
    const std::int8_t* row = x + static_cast<std::size_t>(i) * lda;
    __m512i sum = _mm512_setzero_si512();
    for (int c = 0; c < full; ++c) sum = dpbusd(sum, ones, _mm512_loadu_si512(row + 64 * c));
    if (tail != 0) sum = dpbusd(sum, ones, _mm512_maskz_loadu_epi8(tail, row + 64 * full));
    out[i] = static_cast<std::int32_t>(static_cast<std::uint32_t>(_mm512_reduce_add_epi32(sum)) * 0xFFFFFF80u);
  }
}

}  // namespace

MNAD_AVX512 void gemm_avx512vnni(const GemmArgs& a) {
  const std::size_t wstride = static_cast<std::size_t>((a.k + 3) / 4) * 64;
  const int vectors = padded_channels(a.n) / 16;
  const bool floor_at_zero = a.act_min >= a.output_offset;
  const std::size_t lda = static_cast<std::size_t>(a.lda > 0 ? a.lda : a.k);
  const std::int32_t* rowterm = a.row_terms;
  if (rowterm == nullptr) {
    auto* terms = static_cast<std::int32_t*>(a.scratch);
    row_terms(a.x, a.m, a.k, lda, terms);
    rowterm = terms;
  }
  for (int j0 = 0; j0 < vectors; j0 += kAvx512BlockVectors) {
    const int nr = vectors - j0 < kAvx512BlockVectors ? vectors - j0 : kAvx512BlockVectors;
    Rq16 rq[kAvx512BlockVectors];
    for (int r = 0; r < nr; ++r) {
      alignas(64) std::int32_t m[16], s[16];  // in the packed lane order
      for (int l = 0; l < 16; ++l) {
        const int c = avx512_gemm_lane_channel(a.n, j0 + r, l);
        m[l] = c < a.n ? a.multipliers[c] : 0;
        s[l] = c < a.n ? a.shifts[c] : 0;
      }
      rq[r] = make_rq16(m, s, a.output_offset, floor_at_zero);
    }
    const std::int8_t* wp = a.packed + static_cast<std::size_t>(j0) * wstride;
    for (int m0 = 0; m0 < a.m; m0 += kAvx512Rows) {
      const int mr = a.m - m0 < kAvx512Rows ? a.m - m0 : kAvx512Rows;
      kMicro[mr - 1][nr - 1](a, rq, a.x + static_cast<std::size_t>(m0) * lda, wp, wstride, j0 * 16, rowterm + m0,
                             a.y + static_cast<std::size_t>(m0) * a.n);
    }
  }
}

namespace {

constexpr int kDwChunk = 32;  // channels per chunk: one ymm of int8, two zmm of int32 accumulators

// Channels c0..c0+31 (mask: those that exist) of one output pixel; src[t] is tap t's input (or a
// row of zero points for a padded tap). TAPS > 0: that many taps, unrolled, weights in registers.
template <int TAPS>
MNAD_AVX512 inline __m256i depthwise_pixel(const std::int8_t* const* src, int taps, __mmask32 mask, const __m512i* w,
                                           __m512i bias_lo, __m512i bias_hi, const Rq16& rq_lo, const Rq16& rq_hi,
                                           const OutParams& o) {
  const int n = TAPS > 0 ? TAPS : taps;
  __m512i lo = bias_lo, hi = bias_hi;
  for (int t = 0; t < n; t += 2) {
    const __m512i a = _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(mask, src[t]));
    const __m512i b = t + 1 < n ? _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(mask, src[t + 1])) : a;  // 0 weight
    // Without fixed taps w points into the packed weights, which need not be 64-byte aligned.
    const __m512i w_lo = TAPS > 0 ? w[t] : _mm512_loadu_si512(w + t);
    const __m512i w_hi = TAPS > 0 ? w[t + 1] : _mm512_loadu_si512(w + t + 1);
    lo = dpwssd(lo, _mm512_unpacklo_epi16(a, b), w_lo);
    hi = dpwssd(hi, _mm512_unpackhi_epi16(a, b), w_hi);
  }
  // lo holds channels 0-3, 8-11, 16-19, 24-27; hi 4-7, 12-15, ...: vpackssdw packs per 128-bit
  // lane (lo's four, then hi's four), which puts them back in order; both narrowings saturate.
  const __m512i v16 =
      _mm512_packs_epi32(requantize16(lo, rq_lo, o.output_offset), requantize16(hi, rq_hi, o.output_offset));
  const __m256i v8 = _mm512_cvtsepi16_epi8(v16);
  return _mm256_min_epi8(_mm256_max_epi8(v8, _mm256_broadcastsi128_si256(o.act_min)),
                         _mm256_broadcastsi128_si256(o.act_max));
}

template <int TAPS>
MNAD_AVX512 void depthwise_chunk(const ConvGeometry& g, const std::int8_t* xb, const std::uint8_t* packed, int c0,
                                 const Rq16& rq_lo, const Rq16& rq_hi, const OutParams& o,
                                 const std::int8_t* zero_points, std::int8_t* yb) {
  const int c = g.in_c, taps = g.filter_h * g.filter_w;
  const int pairs = (taps + 1) / 2;
  const __mmask32 mask = c - c0 >= kDwChunk ? ~__mmask32{0} : static_cast<__mmask32>((1u << (c - c0)) - 1);
  constexpr int kRegs = TAPS > 0 ? TAPS + 1 : 1;
  __m512i wreg[kRegs];
  const auto* wmem = reinterpret_cast<const __m512i*>(packed);
  if (TAPS > 0)
    for (int t = 0; t < kRegs; ++t) wreg[t] = _mm512_loadu_si512(wmem + t);
  const __m512i* w = TAPS > 0 ? wreg : wmem;
  const __m512i bias_lo = _mm512_loadu_si512(wmem + 2 * pairs), bias_hi = _mm512_loadu_si512(wmem + 2 * pairs + 1);
  // TAPS 9 means a 3x3 filter (the caller checks), so the tap loops below unroll.
  const int fh = TAPS == 9 ? 3 : g.filter_h, fw = TAPS == 9 ? 3 : g.filter_w;
  const std::int8_t* src[TAPS > 0 ? TAPS : kMaxDepthwiseTaps];
  const std::int8_t* rows[TAPS > 0 ? 3 : kMaxDepthwiseTaps];  // each filter row's input row, or null
  const std::size_t row_bytes = static_cast<std::size_t>(g.in_w) * c;
  for (int oy = 0; oy < g.out_h; ++oy) {
    const int iy0 = oy * g.stride_h - g.pad_top;
    std::int8_t* out = yb + static_cast<std::size_t>(oy) * g.out_w * c + c0;
    for (int fy = 0; fy < fh; ++fy) {
      const int iy = iy0 + fy * g.dilation_h;
      rows[fy] = iy >= 0 && iy < g.in_h ? xb + static_cast<std::size_t>(iy) * row_bytes + c0 : nullptr;
    }
    for (int ox = 0; ox < g.out_w; ++ox) {
      const int ix0 = ox * g.stride_w - g.pad_left;
      const bool cols_in = ix0 >= 0 && ix0 + (fw - 1) * g.dilation_w < g.in_w;
      for (int fy = 0; fy < fh; ++fy)
        for (int fx = 0; fx < fw; ++fx) {
          const int ix = ix0 + fx * g.dilation_w;
          const bool in = rows[fy] != nullptr && (cols_in || (ix >= 0 && ix < g.in_w));
          src[fy * fw + fx] = in ? rows[fy] + static_cast<std::ptrdiff_t>(ix) * c : zero_points;
        }
      const __m256i v = depthwise_pixel<TAPS>(src, taps, mask, w, bias_lo, bias_hi, rq_lo, rq_hi, o);
      std::int8_t* dst = out + static_cast<std::size_t>(ox) * c;
      if (mask == ~__mmask32{0})
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), v);
      else
        _mm256_mask_storeu_epi8(dst, mask, v);
    }
  }
}

// Requantization constants for one half of a chunk, in the packed lane order (see optimized.h).
MNAD_AVX512 Rq16 chunk_rq16(const Requantization& rq, int channels, int c0, int half) {
  const bool floor_at_zero = rq.act_min >= rq.output_offset;
  alignas(64) std::int32_t m[16], s[16];
  for (int i = 0; i < 16; ++i) {
    const int ch = c0 + 8 * (i / 4) + 4 * half + i % 4;
    m[i] = ch < channels ? rq.multipliers[ch] : 0;
    s[i] = ch < channels ? rq.shifts[ch] : 0;
  }
  return make_rq16(m, s, rq.output_offset, floor_at_zero);
}

// --- 3x3 depthwise on vpdpbusd ---------------------------------------------------------------
// One input column (three filter rows) of 64 channels, interleaved so that each dword holds
// (x0 + 128, x1 + 128, x2 + 128, 128) of one channel: the unsigned operand against the packed
// (w0, w1, w2, 0). Lane order: avx512_gemm_lane_channel's block order.
struct Dw3Column {
  __m512i v[4];
};

MNAD_AVX512 inline Dw3Column dw3_column(const std::int8_t* const* rows, int ix, int in_w, std::size_t c, __mmask64 mask,
                                        __m512i zp_flipped) {
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  __m512i r[3];
  for (int fy = 0; fy < 3; ++fy)
    r[fy] = rows[fy] != nullptr && ix >= 0 && ix < in_w
                ? _mm512_xor_si512(_mm512_maskz_loadu_epi8(mask, rows[fy] + static_cast<std::size_t>(ix) * c), flip)
                : zp_flipped;
  const __m512i a = _mm512_unpacklo_epi8(r[0], r[1]), b = _mm512_unpackhi_epi8(r[0], r[1]);
  const __m512i z = _mm512_unpacklo_epi8(r[2], flip), zh = _mm512_unpackhi_epi8(r[2], flip);
  return Dw3Column{{_mm512_unpacklo_epi16(a, z), _mm512_unpackhi_epi16(a, z), _mm512_unpacklo_epi16(b, zh),
                    _mm512_unpackhi_epi16(b, zh)}};
}

// Channels c0..c0+63 of every output pixel. Each output needs three input columns; consecutive
// outputs share them when the stride is one or two dilations, so a column is built once per row.
MNAD_AVX512 void depthwise3x3_chunk(const ConvGeometry& g, const Requantization& rq, const std::int8_t* xb,
                                    const std::uint8_t* packed, int c0, std::int8_t* yb) {
  const std::size_t c = static_cast<std::size_t>(g.in_c);
  const int valid = g.in_c - c0;
  const __mmask64 mask = valid >= 64 ? ~__mmask64{0} : (~__mmask64{0} >> (64 - valid));
  const auto* wmem = reinterpret_cast<const __m512i*>(packed);
  __m512i w[3][4], corr[4];
  for (int fx = 0; fx < 3; ++fx)
    for (int v = 0; v < 4; ++v) w[fx][v] = _mm512_loadu_si512(wmem + 4 * fx + v);
  for (int v = 0; v < 4; ++v) corr[v] = _mm512_loadu_si512(wmem + 12 + v);
  Rq16 q[4];
  const bool floor_at_zero = rq.act_min >= rq.output_offset;
  for (int v = 0; v < 4; ++v) {
    alignas(64) std::int32_t m[16], sh[16];
    for (int l = 0; l < 16; ++l) {
      const int ch = avx512_gemm_lane_channel(64, v, l);
      m[l] = ch < valid ? rq.multipliers[c0 + ch] : 0;
      sh[l] = ch < valid ? rq.shifts[c0 + ch] : 0;
    }
    q[v] = make_rq16(m, sh, rq.output_offset, floor_at_zero);
  }
  const OutParams o = out_params(rq.output_offset, rq.act_min, rq.act_max);
  const __m512i zp_flipped = _mm512_set1_epi8(static_cast<char>(static_cast<std::uint8_t>(-rq.input_offset) ^ 0x80));
  const std::size_t row_bytes = static_cast<std::size_t>(g.in_w) * c;
  const int dil_w = g.dilation_w;
  for (int oy = 0; oy < g.out_h; ++oy) {
    const std::int8_t* rows[3];
    for (int fy = 0; fy < 3; ++fy) {
      const int iy = oy * g.stride_h - g.pad_top + fy * g.dilation_h;
      rows[fy] = iy >= 0 && iy < g.in_h ? xb + static_cast<std::size_t>(iy) * row_bytes + c0 : nullptr;
    }
    Dw3Column col[3];
    int first = 0;  // input column of col[0]
    bool have = false;
    std::int8_t* out = yb + static_cast<std::size_t>(oy) * g.out_w * c + c0;
    for (int ox = 0; ox < g.out_w; ++ox, out += c) {
      const int ix0 = ox * g.stride_w - g.pad_left;
      const int step = have && (ix0 - first) % dil_w == 0 ? (ix0 - first) / dil_w : 3;
      if (step == 1) {
        col[0] = col[1];
        col[1] = col[2];
        col[2] = dw3_column(rows, ix0 + 2 * dil_w, g.in_w, c, mask, zp_flipped);
      } else if (step == 2) {
        col[0] = col[2];
        col[1] = dw3_column(rows, ix0 + dil_w, g.in_w, c, mask, zp_flipped);
        col[2] = dw3_column(rows, ix0 + 2 * dil_w, g.in_w, c, mask, zp_flipped);
      } else if (step != 0) {
        for (int fx = 0; fx < 3; ++fx) col[fx] = dw3_column(rows, ix0 + fx * dil_w, g.in_w, c, mask, zp_flipped);
      }
      first = ix0;
      have = true;
      __m512i acc[4];
      for (int v = 0; v < 4; ++v) {
        acc[v] = dpbusd(corr[v], col[0].v[v], w[0][v]);
        acc[v] = dpbusd(acc[v], col[1].v[v], w[1][v]);
        acc[v] = dpbusd(acc[v], col[2].v[v], w[2][v]);
      }
      const __m512i bytes =
          narrow64(requantize16(acc[0], q[0], o.output_offset), requantize16(acc[1], q[1], o.output_offset),
                   requantize16(acc[2], q[2], o.output_offset), requantize16(acc[3], q[3], o.output_offset), o);
      _mm512_mask_storeu_epi8(out, mask, bytes);
    }
  }
}

}  // namespace

MNAD_AVX512 void depthwise_avx512(const ConvGeometry& g, const Requantization& rq, const std::int8_t* x,
                                  const void* packed, std::int8_t* y) {
  const int c = g.in_c, taps = g.filter_h * g.filter_w;
  if (g.filter_h == 3 && g.filter_w == 3) {
    constexpr std::size_t kChunkBytes = 3 * 4 * 64 + 4 * 64;
    for (int b = 0; b < g.batches; ++b) {
      const std::int8_t* xb = x + static_cast<std::size_t>(b) * g.in_h * g.in_w * c;
      std::int8_t* yb = y + static_cast<std::size_t>(b) * g.out_h * g.out_w * c;
      for (int c0 = 0; c0 < c; c0 += 64)
        depthwise3x3_chunk(g, rq, xb,
                           static_cast<const std::uint8_t*>(packed) + static_cast<std::size_t>(c0 / 64) * kChunkBytes,
                           c0, yb);
    }
    return;
  }
  const std::size_t chunk_bytes = static_cast<std::size_t>((taps + 1) / 2 + 1) * 2 * 64;
  const OutParams o = out_params(rq.output_offset, rq.act_min, rq.act_max);
  alignas(64) std::int8_t zero_points[kDwChunk];  // what a padded tap reads
  for (auto& v : zero_points) v = static_cast<std::int8_t>(-rq.input_offset);
  for (int b = 0; b < g.batches; ++b) {
    const std::int8_t* xb = x + static_cast<std::size_t>(b) * g.in_h * g.in_w * c;
    std::int8_t* yb = y + static_cast<std::size_t>(b) * g.out_h * g.out_w * c;
    for (int c0 = 0; c0 < c; c0 += kDwChunk) {
      const auto* chunk =
          static_cast<const std::uint8_t*>(packed) + static_cast<std::size_t>(c0 / kDwChunk) * chunk_bytes;
      const Rq16 rq_lo = chunk_rq16(rq, c, c0, 0), rq_hi = chunk_rq16(rq, c, c0, 1);
      if (g.filter_h == 3 && g.filter_w == 3)
        depthwise_chunk<9>(g, xb, chunk, c0, rq_lo, rq_hi, o, zero_points, yb);
      else
        depthwise_chunk<0>(g, xb, chunk, c0, rq_lo, rq_hi, o, zero_points, yb);
    }
  }
}

// reference::average_pool2d, 16 channels at a time: the window's sum in int32, then
// (sum ± count/2) / count truncated toward zero, in double (exact, see optimized.h).
MNAD_AVX512 void average_pool_avx512(const PoolGeometry& g, const std::int8_t* x, std::int8_t* y) {
  const int c = g.channels;
  const __m512i act_min = _mm512_set1_epi32(g.act_min), act_max = _mm512_set1_epi32(g.act_max);
  for (int b = 0; b < g.batches; ++b)
    for (int oy = 0; oy < g.out_h; ++oy) {
      const WindowSpan wy = window_span(oy, g.stride_h, g.pad_top, g.filter_h, g.in_h);
      const int in_y0 = wy.start, fy_begin = wy.begin, fy_end = wy.end;
      for (int ox = 0; ox < g.out_w; ++ox) {
        const WindowSpan wx = window_span(ox, g.stride_w, g.pad_left, g.filter_w, g.in_w);
        const int in_x0 = wx.start, fx_begin = wx.begin, fx_end = wx.end;
        const int count = (fy_end - fy_begin) * (fx_end - fx_begin);  // > 0: validation
        const __m512i half = _mm512_set1_epi32(count / 2);
        const __m512d divisor = _mm512_set1_pd(static_cast<double>(count));
        std::int8_t* out = y + ((static_cast<std::size_t>(b) * g.out_h + oy) * g.out_w + ox) * c;
        for (int c0 = 0; c0 < c; c0 += 16) {
          const __mmask16 mask = c - c0 >= 16 ? __mmask16{0xFFFF} : static_cast<__mmask16>((1u << (c - c0)) - 1);
          __m512i sum = _mm512_setzero_si512();
          for (int fy = fy_begin; fy < fy_end; ++fy) {
            const std::int8_t* row =
                x + ((static_cast<std::size_t>(b) * g.in_h + in_y0 + fy) * g.in_w + in_x0) * c + c0;
            for (int fx = fx_begin; fx < fx_end; ++fx)
              sum = _mm512_add_epi32(
                  sum, _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(mask, row + static_cast<std::size_t>(fx) * c)));
          }
          const __mmask16 positive = _mm512_cmpgt_epi32_mask(sum, _mm512_setzero_si512());
          const __m512i num = _mm512_mask_add_epi32(_mm512_sub_epi32(sum, half), positive, sum, half);
          const __m256i lo =
              _mm512_cvttpd_epi32(_mm512_div_pd(_mm512_cvtepi32_pd(_mm512_castsi512_si256(num)), divisor));
          const __m256i hi =
              _mm512_cvttpd_epi32(_mm512_div_pd(_mm512_cvtepi32_pd(_mm512_extracti64x4_epi64(num, 1)), divisor));
          __m512i avg = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
          avg = _mm512_min_epi32(_mm512_max_epi32(avg, act_min), act_max);
          _mm_mask_storeu_epi8(out + c0, mask, _mm512_cvtepi32_epi8(avg));
        }
      }
    }
}

}  // namespace micronet_ad::kernels::opt

#endif  // __x86_64__
