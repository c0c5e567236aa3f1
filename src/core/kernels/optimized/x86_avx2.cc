// AVX2 kernels: GEMM on vpmaddwd (activations widened to int16 with the input offset applied,
// a band of rows at a time, so no correction term and no saturation), depthwise on vpmaddwd with
// 16 channels in the lanes and packed tap pairs, for any filter (the 3x3 shapes of the models run
// x86_avx2_3x3.cc's kernels); the requantization is x86_avx2.h's. Every function carries its own
// target attribute (see x86_avx512.cc).
#if defined(__x86_64__)

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/optimized/optimized.h"
#include "kernels/optimized/x86_avx2.h"

namespace micronet_ad::kernels::opt {
namespace {

using namespace avx2;  // NOLINT: the shared helpers of x86_avx2.h

// Requantizes and stores the MR x NR·8 accumulators of a tile.
template <int MR, int NR>
MNAD_AVX2 inline void store_tile(const GemmArgs& a, const __m256i (&acc)[MR][NR], int n0, std::int8_t* y) {
  const ActRange range = act_range(a.act_min, a.act_max);
  for (int r = 0; r < NR; ++r) {
    const int n = n0 + 8 * r;
    const int count = a.n - n < 8 ? a.n - n : 8;
    const Rq8 rq = make_rq8(a.multipliers + n, a.shifts + n, a.output_offset);
    for (int i = 0; i < MR; ++i)
      store_bytes(y + static_cast<std::size_t>(i) * a.n + n, narrow8(requantize8(acc[i][r], rq), range), count);
  }
}

// MR rows (int16, row stride k2) x NR·8 channels: the edges of the output, and any tile when the
// assembly below is not built.
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
  store_tile<MR, NR>(a, acc, n0, y);
}

// The full 6x2 tile, its k loop in assembly: all 16 ymm registers are spoken for (12
// accumulators, 2 weight vectors, the broadcast, the product), and GCC, scheduling the intrinsics
// itself, keeps only part of the accumulators in registers and spills the rest on every step.
// ymm(2i + r) accumulates row i, channels n0 + 8r..; each step is one int16 pair of depth.
#define MNAD_GEMM_ROW(addr, a, b)          \
  "vpbroadcastd " addr                     \
  ", %%ymm14\n\t"                          \
  "vpmaddwd %%ymm12, %%ymm14, %%ymm15\n\t" \
  "vpaddd %%ymm15, %%ymm" #a ", %%ymm" #a  \
  "\n\t"                                   \
  "vpmaddwd %%ymm13, %%ymm14, %%ymm15\n\t" \
  "vpaddd %%ymm15, %%ymm" #b ", %%ymm" #b "\n\t"
template <>
MNAD_AVX2 void gemm_micro<6, 2>(const GemmArgs& a, const std::int16_t* xs, int k2, const std::int16_t* wp,
                                std::size_t wstride, int n0, std::int8_t* y) {
  __m256i acc[6][2];
  const std::int16_t* x = xs;
  const std::int16_t* x3 = xs + 3 * static_cast<std::size_t>(k2);
  const std::int16_t* w = wp;
  const std::size_t x_bytes = static_cast<std::size_t>(k2) * sizeof(std::int16_t);
  const std::size_t w_bytes = wstride * sizeof(std::int16_t);
  std::size_t pairs = static_cast<std::size_t>(k2 / 2);  // ≥ 1
  __asm__ volatile(
      "vmovdqu (%[corr]), %%ymm0\n\t"
      "vmovdqu 32(%[corr]), %%ymm1\n\t"
      "vmovdqa %%ymm0, %%ymm2\n\tvmovdqa %%ymm1, %%ymm3\n\t"
      "vmovdqa %%ymm0, %%ymm4\n\tvmovdqa %%ymm1, %%ymm5\n\t"
      "vmovdqa %%ymm0, %%ymm6\n\tvmovdqa %%ymm1, %%ymm7\n\t"
      "vmovdqa %%ymm0, %%ymm8\n\tvmovdqa %%ymm1, %%ymm9\n\t"
      "vmovdqa %%ymm0, %%ymm10\n\tvmovdqa %%ymm1, %%ymm11\n\t"
      "1:\n\t"
      "vmovdqu (%[w]), %%ymm12\n\t"
      "vmovdqu (%[w],%[w_bytes],1), %%ymm13\n\t"
      MNAD_GEMM_ROW("(%[x])", 0, 1)
      MNAD_GEMM_ROW("(%[x],%[x_bytes],1)", 2, 3)
      MNAD_GEMM_ROW("(%[x],%[x_bytes],2)", 4, 5)
      MNAD_GEMM_ROW("(%[x3])", 6, 7)
      MNAD_GEMM_ROW("(%[x],%[x_bytes],4)", 8, 9)
      MNAD_GEMM_ROW("(%[x3],%[x_bytes],2)", 10, 11)
      "add $32, %[w]\n\t"
      "add $4, %[x]\n\t"
      "add $4, %[x3]\n\t"
      "dec %[pairs]\n\t"
      "jnz 1b\n\t"
      "vmovdqu %%ymm0, (%[acc])\n\tvmovdqu %%ymm1, 32(%[acc])\n\t"
      "vmovdqu %%ymm2, 64(%[acc])\n\tvmovdqu %%ymm3, 96(%[acc])\n\t"
      "vmovdqu %%ymm4, 128(%[acc])\n\tvmovdqu %%ymm5, 160(%[acc])\n\t"
      "vmovdqu %%ymm6, 192(%[acc])\n\tvmovdqu %%ymm7, 224(%[acc])\n\t"
      "vmovdqu %%ymm8, 256(%[acc])\n\tvmovdqu %%ymm9, 288(%[acc])\n\t"
      "vmovdqu %%ymm10, 320(%[acc])\n\tvmovdqu %%ymm11, 352(%[acc])"
      : [w] "+r"(w), [x] "+r"(x), [x3] "+r"(x3), [pairs] "+r"(pairs)
      : [corr] "r"(a.corr + n0), [w_bytes] "r"(w_bytes), [x_bytes] "r"(x_bytes), [acc] "r"(&acc[0][0])
      : "cc", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
        "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
  store_tile<6, 2>(a, acc, n0, y);
}
#undef MNAD_GEMM_ROW

// One row of k int8 to k2 int16 with the input offset applied (x + off fits int16); k2 > k pads a 0.
MNAD_AVX2 void widen_row(const std::int8_t* row, int k, int k2, std::int32_t input_offset, std::int16_t* dst) {
  const __m256i offset = _mm256_set1_epi16(static_cast<std::int16_t>(input_offset));
  int kk = 0;
  for (; kk + 16 <= k; kk += 16) {
    const __m256i v = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + kk)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + kk), _mm256_add_epi16(v, offset));
  }
  for (; kk < k; ++kk) dst[kk] = static_cast<std::int16_t>(row[kk] + input_offset);
  if (k2 != k) dst[k] = 0;
}

using MicroFn = void (*)(const GemmArgs&, const std::int16_t*, int, const std::int16_t*, std::size_t, int,
                         std::int8_t*);

template <int MR>
struct Row {
  static constexpr MicroFn fns[kAvx2Vectors] = {gemm_micro<MR, 1>, gemm_micro<MR, 2>};
};

constexpr const MicroFn* kMicro[kAvx2Rows] = {Row<1>::fns, Row<2>::fns, Row<3>::fns,
                                              Row<4>::fns, Row<5>::fns, Row<6>::fns};

}  // namespace

MNAD_AVX2 void gemm_avx2(const GemmArgs& a) {
  const int k2 = (a.k + 1) / 2 * 2;
  const std::size_t wstride = static_cast<std::size_t>(k2) * 8;  // int16 elements per 8-channel column
  const int vectors = (a.n + 7) / 8;                             // vectors holding at least one real channel
  const std::size_t lda = static_cast<std::size_t>(a.lda > 0 ? a.lda : a.k);
  auto* xs = static_cast<std::int16_t*>(a.scratch);
  const auto* packed = reinterpret_cast<const std::int16_t*>(a.packed);
  for (int b0 = 0; b0 < a.m; b0 += kAvx2BlockRows) {
    const int rows = a.m - b0 < kAvx2BlockRows ? a.m - b0 : kAvx2BlockRows;
    for (int i = 0; i < rows; ++i)
      widen_row(a.x + static_cast<std::size_t>(b0 + i) * lda, a.k, k2, a.input_offset,
                xs + static_cast<std::size_t>(i) * k2);
    for (int j0 = 0; j0 < vectors; j0 += kAvx2Vectors) {
      const int nr = vectors - j0 < kAvx2Vectors ? vectors - j0 : kAvx2Vectors;
      const std::int16_t* wp = packed + static_cast<std::size_t>(j0) * wstride;
      for (int m0 = 0; m0 < rows; m0 += kAvx2Rows) {
        const int mr = rows - m0 < kAvx2Rows ? rows - m0 : kAvx2Rows;
        kMicro[mr - 1][nr - 1](a, xs + static_cast<std::size_t>(m0) * k2, k2, wp, wstride, j0 * 8,
                               a.y + static_cast<std::size_t>(b0 + m0) * a.n);
      }
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
                                         const ActRange& range) {
  __m256i lo = bias_lo, hi = bias_hi;
  for (int t = 0; t < taps; t += 2) {
    const __m256i a = load_tap(src[t], count);
    const __m256i b = t + 1 < taps ? load_tap(src[t + 1], count) : a;  // its weight is 0
    lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(a, b), _mm256_loadu_si256(w + t)));
    hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(a, b), _mm256_loadu_si256(w + t + 1)));
  }
  // lo holds channels 0-3 and 8-11, hi 4-7 and 12-15: vpackssdw packs per 128-bit lane (lo's
  // four, then hi's four), which restores the order; both narrowings saturate.
  const __m256i v16 = _mm256_packs_epi32(requantize8(lo, rq_lo), requantize8(hi, rq_hi));
  return clamp_bytes(_mm_packs_epi16(_mm256_castsi256_si128(v16), _mm256_extracti128_si256(v16, 1)), range);
}

}  // namespace

MNAD_AVX2 void depthwise_avx2(const ConvGeometry& g, const Requantization& rq, const std::int8_t* x, const void* packed,
                              std::int8_t* y) {
  const int c = g.in_c, taps = g.filter_h * g.filter_w;
  const int pairs = (taps + 1) / 2;
  const std::size_t chunk_vectors = static_cast<std::size_t>(pairs + 1) * 2;
  const ActRange range = act_range(rq.act_min, rq.act_max);
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
      const Rq8 rq_lo = dw_chunk_rq8(rq, c, c0, 0), rq_hi = dw_chunk_rq8(rq, c, c0, 1);
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
          const __m128i v = depthwise_pixel(src, taps, count, w, bias_lo, bias_hi, rq_lo, rq_hi, range);
          store_bytes(yb + (static_cast<std::size_t>(oy) * g.out_w + ox) * c + c0, v, count);
        }
      }
    }
  }
}

}  // namespace micronet_ad::kernels::opt

#endif  // __x86_64__
