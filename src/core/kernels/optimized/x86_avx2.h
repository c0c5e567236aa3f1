// What the AVX2 kernels share (x86_avx2.cc, x86_avx2_3x3.cc): the requantization of 8 int32
// lanes, exactly quant::requantize up to the clamp, and the narrowing and storing of the bytes.
// Every function carries its own target attribute (see x86_avx512.cc) and internal linkage, so
// that no AVX2 copy of a helper can be picked by the linker for code that runs without AVX2.
#pragma once
#if defined(__x86_64__)

#include <immintrin.h>

#include <cstdint>

#include "kernels/kernel_params.h"

#define MNAD_AVX2 __attribute__((target("avx2")))

namespace micronet_ad::kernels::opt::avx2 {

// quant::multiply_by_quantized_multiplier on 8 lanes with both roundings fused into one 64-bit
// add-and-shift, exactly as x86_avx512.cc derives it (docs/arithmetic.md):
//   (p + 2^30 + [e > 0]·2^(30+e) − [e > 0 and p < −2^30]·2^31) >> (31 + e), clamped to INT32_MAX,
// with p the 64-bit product of the (left-shifted) accumulator and the multiplier, e the right shift.
// AVX2 has no 64-bit arithmetic shift. In the usual case (every multiplier ≥ 0, every right shift
// ≤ 31) the sum plus 2^62 is below 2^64 and above 0, so a logical shift of it gives the arithmetic
// shift plus 2^(62−s), s = 31 + e, a per-lane constant taken off with the output offset; nothing
// saturates there (only INT32_MIN·INT32_MIN does). Other lanes take the general path, which
// builds the arithmetic shift from logical shifts and compares.
// Per-8-channel constants, computed once per block of channels.
struct Rq8 {
  __m256i left;          // left shift (int32 lanes)
  __m256i mul_e, mul_o;  // multipliers of the even / odd channels in the low half of each qword
  __m256i add_e, add_o;  // 2^30 + [e > 0]·2^(30+e), plus 2^62 on the fast path
  __m256i neg_e, neg_o;  // [e > 0]·2^31, taken off when p < −2^30
  __m256i sh_e, sh_o;    // 31 + e
  __m256i offset;        // the output offset, less 2^(62−s) on the fast path (int32 lanes)
  bool any_left;         // some lane shifts left
  bool saturate;         // some multiplier is INT32_MIN: a = b = INT32_MIN can overflow the high mul
  bool fast;             // the logical shift is exact (see above)
  bool negatives_clamp;  // every negative product ends at act_min (see clamp_negatives); off by default
};

MNAD_AVX2 static inline Rq8 make_rq8(const std::int32_t* multipliers, const std::int32_t* shifts,
                                     std::int32_t output_offset) {
  const __m256i zero = _mm256_setzero_si256();
  const __m256i shift = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(shifts));
  const __m256i m = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(multipliers));
  const __m256i e = _mm256_max_epi32(_mm256_sub_epi32(zero, shift), zero);
  Rq8 q;
  q.left = _mm256_max_epi32(shift, zero);
  q.any_left = !_mm256_testz_si256(q.left, q.left);
  q.saturate = _mm256_movemask_epi8(_mm256_cmpeq_epi32(m, _mm256_set1_epi32(INT32_MIN))) != 0;
  q.negatives_clamp = false;
  q.fast = _mm256_movemask_epi8(
               _mm256_or_si256(_mm256_cmpgt_epi32(zero, m), _mm256_cmpgt_epi32(e, _mm256_set1_epi32(31)))) == 0;
  q.mul_e = m;
  q.mul_o = _mm256_srli_epi64(m, 32);
  const __m256i e_half[2] = {_mm256_and_si256(e, _mm256_set1_epi64x(0xFFFFFFFF)), _mm256_srli_epi64(e, 32)};
  const __m256i base = _mm256_set1_epi64x(std::int64_t{1} << 30);
  const __m256i half = _mm256_set1_epi64x(std::int64_t{1} << 31);
  const __m256i bias = q.fast ? _mm256_set1_epi64x(std::int64_t{1} << 62) : zero;
  __m256i add[2], neg[2], sh[2];
  for (int h = 0; h < 2; ++h) {
    const __m256i positive = _mm256_cmpgt_epi64(e_half[h], zero);
    add[h] =
        _mm256_add_epi64(_mm256_add_epi64(base, bias), _mm256_and_si256(positive, _mm256_sllv_epi64(base, e_half[h])));
    neg[h] = _mm256_and_si256(positive, half);
    sh[h] = _mm256_add_epi64(e_half[h], _mm256_set1_epi64x(31));
  }
  q.add_e = add[0];
  q.add_o = add[1];
  q.neg_e = neg[0];
  q.neg_o = neg[1];
  q.sh_e = sh[0];
  q.sh_o = sh[1];
  // 2^(62−s) = 2^(31−e): 2^31 wraps to INT32_MIN, which is what the low 32 bits hold.
  const __m256i fast_bias =
      q.fast ? _mm256_sllv_epi32(_mm256_set1_epi32(1), _mm256_sub_epi32(_mm256_set1_epi32(31), e)) : zero;
  q.offset = _mm256_sub_epi32(_mm256_set1_epi32(output_offset), fast_bias);
  return q;
}

// The largest |accumulator| (after the bias) of a layer with `taps` products per output: |x +
// input_offset| ≤ 128 + |input_offset| and |w| ≤ 128, plus the largest |bias| of channels [0, n).
static inline std::int64_t accumulator_bound(const std::int32_t* bias, int n, int taps, std::int32_t input_offset) {
  std::int64_t largest_bias = 0;
  for (int i = 0; bias != nullptr && i < n; ++i) {
    const std::int64_t b = bias[i] < 0 ? -static_cast<std::int64_t>(bias[i]) : bias[i];
    largest_bias = b > largest_bias ? b : largest_bias;
  }
  const std::int64_t off = input_offset < 0 ? -static_cast<std::int64_t>(input_offset) : input_offset;
  return largest_bias + static_cast<std::int64_t>(taps) * (128 + off) * 128;
}

// Turns on the shortcut for negative products where it gives the same bytes. A negative product p
// gives a requantized value r ≤ 0, and the fast path without its correction for p < −2^30 gives
// ⌊(p + add) / 2^s⌋ ≤ 0 too (p + add < 2^30 + 2^(30+e) ≤ 2^s). When act_min ≥ output_offset both
// end at act_min after adding the offset, as long as neither sum wraps; |acc| < 2^30 (so |r| ≤
// 2^30 + 1) and |output_offset| < 2^30 rule that out. A ReLU or ReLU6 layer has act_min equal to
// the output zero point, so every real model's 3x3 layers qualify (docs/kernels.md).
static inline void clamp_negatives(Rq8* q, const Requantization& rq, std::int64_t acc_bound) {
  const std::int64_t limit = std::int64_t{1} << 30;
  q->negatives_clamp = q->fast && !q->any_left && rq.act_min >= rq.output_offset && acc_bound < limit &&
                       rq.output_offset < limit && rq.output_offset > -limit;
}

// The fast path: (p + add − [p < −2^30]·neg) >>> sh, logical.
MNAD_AVX2 static inline __m256i round_shift64_fast(__m256i p, __m256i add, __m256i neg, __m256i sh) {
  const __m256i negative = _mm256_cmpgt_epi64(_mm256_set1_epi64x(-(std::int64_t{1} << 30)), p);
  return _mm256_srlv_epi64(_mm256_sub_epi64(_mm256_add_epi64(p, add), _mm256_and_si256(negative, neg)), sh);
}

// The general path: the same sum, shifted arithmetically.
MNAD_AVX2 static inline __m256i round_shift64(__m256i p, __m256i add, __m256i neg, __m256i sh) {
  const __m256i negative = _mm256_cmpgt_epi64(_mm256_set1_epi64x(-(std::int64_t{1} << 30)), p);
  const __m256i v = _mm256_sub_epi64(_mm256_add_epi64(p, add), _mm256_and_si256(negative, neg));
  // Arithmetic shift from a logical one: v >> s = ~(~v >>> s) for v < 0.
  const __m256i sign = _mm256_cmpgt_epi64(_mm256_setzero_si256(), v);
  return _mm256_xor_si256(_mm256_srlv_epi64(_mm256_xor_si256(v, sign), sh), sign);
}

// quant::requantize up to the activation clamp on 8 lanes (acc already includes the bias): the
// int32 result plus the output offset. Callers narrow with saturation to int8 and clamp bytes to
// [act_min, act_max] ⊂ [−128, 127], which equals clamping the int32.
MNAD_AVX2 static inline __m256i requantize8(__m256i acc, const Rq8& q) {
  if (q.any_left) acc = _mm256_sllv_epi32(acc, q.left);  // wraps, like the reference's unsigned shift
  const __m256i p_even = _mm256_mul_epi32(acc, q.mul_e);
  const __m256i p_odd = _mm256_mul_epi32(_mm256_srli_epi64(acc, 32), q.mul_o);
  __m256i even, odd;
  if (q.negatives_clamp) {  // (p + add) >>> sh: see clamp_negatives
    even = _mm256_srlv_epi64(_mm256_add_epi64(p_even, q.add_e), q.sh_e);
    odd = _mm256_srlv_epi64(_mm256_add_epi64(p_odd, q.add_o), q.sh_o);
  } else if (q.fast) {
    even = round_shift64_fast(p_even, q.add_e, q.neg_e, q.sh_e);
    odd = round_shift64_fast(p_odd, q.add_o, q.neg_o, q.sh_o);
  } else {
    even = round_shift64(p_even, q.add_e, q.neg_e, q.sh_e);
    odd = round_shift64(p_odd, q.add_o, q.neg_o, q.sh_o);
    if (q.saturate) {
      const __m256i max = _mm256_set1_epi64x(INT32_MAX);
      even = _mm256_blendv_epi8(even, max, _mm256_cmpgt_epi64(even, max));
      odd = _mm256_blendv_epi8(odd, max, _mm256_cmpgt_epi64(odd, max));
    }
  }
  return _mm256_add_epi32(_mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA), q.offset);
}

struct ActRange {
  __m128i min, max;  // bytes
};

MNAD_AVX2 static inline ActRange act_range(std::int32_t lo, std::int32_t hi) {
  return ActRange{_mm_set1_epi8(static_cast<char>(lo)), _mm_set1_epi8(static_cast<char>(hi))};
}

MNAD_AVX2 static inline __m128i clamp_bytes(__m128i v, const ActRange& r) {
  return _mm_min_epi8(_mm_max_epi8(v, r.min), r.max);
}

// 8 int32 lanes to 8 bytes (the low half of the result), saturating, then clamped.
MNAD_AVX2 static inline __m128i narrow8(__m256i v, const ActRange& r) {
  const __m128i p16 = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  return clamp_bytes(_mm_packs_epi16(p16, p16), r);
}

// Requantization constants for one half (0: lo, 1: hi) of a depthwise chunk of 16 channels from
// c0, in the lane order of the packed tap pairs (optimized.h); lanes past `channels` get zeros.
MNAD_AVX2 static inline Rq8 dw_chunk_rq8(const Requantization& rq, int channels, int c0, int half) {
  alignas(32) std::int32_t m[8], s[8];
  for (int i = 0; i < 8; ++i) {
    const int ch = c0 + 8 * (i / 4) + 4 * half + i % 4;
    m[i] = ch < channels ? rq.multipliers[ch] : 0;
    s[i] = ch < channels ? rq.shifts[ch] : 0;
  }
  return make_rq8(m, s, rq.output_offset);
}

// Stores the first `count` (1..16) bytes of v.
MNAD_AVX2 static inline void store_bytes(std::int8_t* out, __m128i v, int count) {
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

}  // namespace micronet_ad::kernels::opt::avx2

#endif  // __x86_64__
