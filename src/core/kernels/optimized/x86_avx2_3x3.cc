// AVX2 kernels for the models' two 3x3 shapes, which do 9 multiply-adds per output and so are
// bound by the requantization and the addressing, not the arithmetic (docs/kernels.md):
//   dwconv3x3_s8_avx2_16c    depthwise 3x3, depth multiplier 1, any stride and padding, ≥ 16
//                            channels: 16 channels of one output pixel per step, the 9 taps read
//                            from 3 row pointers that walk the row (the edge pixels gather their
//                            taps with the padding first), a channel count that is not a
//                            multiple of 16 ending with an overlapping chunk (packed at init);
//   conv3x3_in1_s8_avx2      the first convolution (3x3 over one input channel, any stride and
//                            padding): a block of output pixels gathers its taps once as int16
//                            pairs, then each 8 output channels take 5 vpmaddwd per pixel.
#if defined(__x86_64__)

#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/optimized/optimized.h"
#include "kernels/optimized/x86_avx2.h"

namespace micronet_ad::kernels::opt {
namespace {

using namespace avx2;  // NOLINT: the shared helpers of x86_avx2.h

// --- Depthwise 3x3 ------------------------------------------------------------------------------
constexpr int kDwChunk = 16;
constexpr int kDwPairs = 5;                                  // tap pairs (0,1) .. (8,–)
constexpr std::size_t kDwChunkVectors = 2 * (kDwPairs + 1);  // lo/hi pairs, then lo/hi bias

std::size_t dw3x3_main_bytes(int channels) { return depthwise_packed_bytes(Level::kAvx2, 3, 3, channels); }

// Where a pixel's 9 taps are: between the edges, 3 filter rows r[fy] with column strides col[fy]
// (0 for a padded row, which reads the zero points); at an edge, one pointer per tap.
struct RowTaps {
  const std::int8_t* const* r;
  const int* col;
  const std::int8_t* operator()(int t) const { return r[t / 3] + static_cast<std::ptrdiff_t>(t % 3) * col[t / 3]; }
};
struct TapPointers {
  const std::int8_t* const* p;
  const std::int8_t* operator()(int t) const { return p[t]; }
};

// 16 channels of one output pixel.
template <typename Taps>
MNAD_AVX2 __attribute__((always_inline)) inline __m128i dw3x3_pixel(const Taps& taps, const __m256i* w,
                                                                    const Rq8& rq_lo, const Rq8& rq_hi,
                                                                    const ActRange& range) {
  const auto load = [&](int t) MNAD_AVX2 {
    return _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(taps(t))));
  };
  __m256i lo = _mm256_loadu_si256(w + 2 * kDwPairs), hi = _mm256_loadu_si256(w + 2 * kDwPairs + 1);
  for (int t = 0; t < 9; t += 2) {
    const __m256i a = load(t);
    const __m256i b = t + 1 < 9 ? load(t + 1) : _mm256_setzero_si256();
    lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(a, b), _mm256_loadu_si256(w + t)));
    hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(a, b), _mm256_loadu_si256(w + t + 1)));
  }
  // lo holds channels 0-3 and 8-11, hi 4-7 and 12-15: vpackssdw packs per 128-bit lane (lo's
  // four, then hi's four), which restores the order; both narrowings saturate.
  const __m256i v16 = _mm256_packs_epi32(requantize8(lo, rq_lo), requantize8(hi, rq_hi));
  return clamp_bytes(_mm_packs_epi16(_mm256_castsi256_si128(v16), _mm256_extracti128_si256(v16, 1)), range);
}

// A pixel at the left or right edge: its padded columns read the zero points.
MNAD_AVX2 inline __m128i dw3x3_edge_pixel(const ConvGeometry& g, const std::int8_t* const* rows, const int* col,
                                          const std::int8_t* zero_points, int ix0, const __m256i* w, const Rq8& rq_lo,
                                          const Rq8& rq_hi, const ActRange& range) {
  const std::int8_t* p[9];
  for (int fy = 0; fy < 3; ++fy)
    for (int fx = 0; fx < 3; ++fx) {
      const int ix = ix0 + fx;
      p[3 * fy + fx] = ix >= 0 && ix < g.in_w ? rows[fy] + static_cast<std::ptrdiff_t>(ix) * col[fy] : zero_points;
    }
  return dw3x3_pixel(TapPointers{p}, w, rq_lo, rq_hi, range);
}

// One row of output pixels for the chunk at c0. rows[fy] is filter row fy's input row at channel
// c0 with column stride col[fy] (c), or the zero points with stride 0 when the row is padding.
// The pixels between the edges walk three row pointers, with no test per tap.
MNAD_AVX2 void dw3x3_row(const ConvGeometry& g, const std::int8_t* const* rows, const int* col,
                         const std::int8_t* zero_points, const __m256i* w, const Rq8& rq_lo, const Rq8& rq_hi,
                         const ActRange& range, std::int8_t* y) {
  const std::size_t c = static_cast<std::size_t>(g.in_c);
  // Interior pixels read no padding: ox·stride − pad_left ≥ 0 and ox·stride − pad_left + 2 < in_w.
  const int first = (g.pad_left + g.stride_w - 1) / g.stride_w;
  const int past_last = g.in_w - 3 + g.pad_left < 0 ? 0 : (g.in_w - 3 + g.pad_left) / g.stride_w + 1;
  const int begin = std::min(first, g.out_w), end = std::max(begin, std::min(past_last, g.out_w));
  for (int ox = 0; ox < begin; ++ox)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + ox * c),
                     dw3x3_edge_pixel(g, rows, col, zero_points, ox * g.stride_w - g.pad_left, w, rq_lo, rq_hi, range));
  const std::int8_t* r[3];
  std::ptrdiff_t step[3];
  for (int fy = 0; fy < 3; ++fy) {
    r[fy] = rows[fy] + static_cast<std::ptrdiff_t>(begin * g.stride_w - g.pad_left) * col[fy];
    step[fy] = static_cast<std::ptrdiff_t>(g.stride_w) * col[fy];
  }
  for (int ox = begin; ox < end; ++ox) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + ox * c), dw3x3_pixel(RowTaps{r, col}, w, rq_lo, rq_hi, range));
    for (int fy = 0; fy < 3; ++fy) r[fy] += step[fy];
  }
  for (int ox = end; ox < g.out_w; ++ox)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + ox * c),
                     dw3x3_edge_pixel(g, rows, col, zero_points, ox * g.stride_w - g.pad_left, w, rq_lo, rq_hi, range));
}

// --- First convolution: 3x3 over one input channel ----------------------------------------------
constexpr int kConvPairs = 5;
constexpr std::size_t kConvVectorBytes = (kConvPairs + 1) * 32;  // per 8 channels: 5 pair vectors, bias
constexpr int kConvBlock = 64;                                   // output pixels whose taps are gathered at once

// The taps of one output pixel as int16 pairs (x + offset, 0 in the padding).
void gather_taps(const ConvGeometry& g, const std::int8_t* x, std::int32_t input_offset, int oy, int ox,
                 std::int32_t* pairs) {
  std::int16_t t[2 * kConvPairs] = {};
  const int iy0 = oy * g.stride_h - g.pad_top, ix0 = ox * g.stride_w - g.pad_left;
  for (int fy = 0; fy < 3; ++fy)
    for (int fx = 0; fx < 3; ++fx) {
      const int iy = iy0 + fy, ix = ix0 + fx;
      if (iy >= 0 && iy < g.in_h && ix >= 0 && ix < g.in_w)
        t[3 * fy + fx] = static_cast<std::int16_t>(x[static_cast<std::size_t>(iy) * g.in_w + ix] + input_offset);
    }
  std::memcpy(pairs, t, sizeof t);
}

constexpr int kConvGroups = 4;  // groups of 8 channels a pixel's broadcast taps serve

// 32 int32 lanes (4 groups of 8 channels) to 32 bytes in channel order, saturating, then clamped.
MNAD_AVX2 inline __m256i narrow32(const __m256i* r, const ActRange& range) {
  // Per 128-bit lane the packs interleave the groups' quads: r0 r1 r2 r3 (first 4), then the same
  // for the last 4 channels; the dword permutation puts each group's two quads together.
  const __m256i bytes = _mm256_packs_epi16(_mm256_packs_epi32(r[0], r[1]), _mm256_packs_epi32(r[2], r[3]));
  const __m256i ordered = _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  return _mm256_min_epi8(_mm256_max_epi8(ordered, _mm256_broadcastsi128_si256(range.min)),
                         _mm256_broadcastsi128_si256(range.max));
}

// `count` output pixels (their taps in pairs[]) x G groups of 8 channels from n, the groups' packed
// vectors from v: each pixel broadcasts its 5 tap pairs once for all G groups.
template <int G>
MNAD_AVX2 void conv3x3_in1_block(const std::int32_t* pairs, int count, const __m256i* v, const Rq8* rq,
                                 const ActRange& range, int out_c, int n, std::int8_t* y) {
  const bool whole = G == kConvGroups && n + 8 * kConvGroups <= out_c;
  for (int i = 0; i < count; ++i) {
    const std::int32_t* t = pairs + kConvPairs * i;
    __m256i taps[kConvPairs];
    for (int p = 0; p < kConvPairs; ++p) taps[p] = _mm256_set1_epi32(t[p]);
    __m256i r[kConvGroups];
    for (int k = 0; k < G; ++k) {
      const __m256i* w = v + k * (kConvPairs + 1);
      __m256i acc = _mm256_loadu_si256(w + kConvPairs);  // the bias
      for (int p = 0; p < kConvPairs; ++p)
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(taps[p], _mm256_loadu_si256(w + p)));
      r[k] = requantize8(acc, rq[k]);
    }
    std::int8_t* out = y + static_cast<std::size_t>(i) * out_c + n;
    if (whole) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), narrow32(r, range));
    } else {
      for (int k = 0; k < G; ++k) store_bytes(out + 8 * k, narrow8(r[k], range), std::min(8, out_c - n - 8 * k));
    }
  }
}

}  // namespace

// --- Depthwise 3x3: the row's functions (x86_levels.cc) --------------------------------------------
bool dw3x3_avx2_accepts(const ConvGeometry& g) {
  return g.depth_multiplier == 1 && g.filter_h == 3 && g.filter_w == 3 && g.dilation_h == 1 && g.dilation_w == 1 &&
         g.in_c >= kDwChunk;
}

// The level's depthwise packing (chunks of 16 from channel 0), then, when the channel count is not
// a multiple of 16, one more chunk for the last 16 channels.
std::size_t dw3x3_avx2_packed_bytes(const ConvGeometry& g) {
  return dw3x3_main_bytes(g.in_c) + (g.in_c % kDwChunk != 0 ? kDwChunkVectors * sizeof(__m256i) : 0);
}

void dw3x3_avx2_pack(const ConvGeometry& g, const std::int8_t* w, const std::int32_t* bias, std::int32_t input_offset,
                     void* packed) {
  const int c = g.in_c;
  pack_depthwise(Level::kAvx2, w, 3, 3, c, bias, input_offset, packed);
  if (c % kDwChunk == 0) return;
  const int c0 = c - kDwChunk;
  std::int8_t tail_w[9 * kDwChunk];
  std::int32_t tail_bias[kDwChunk];
  for (int i = 0; i < kDwChunk; ++i) {
    for (int t = 0; t < 9; ++t) tail_w[t * kDwChunk + i] = w[static_cast<std::size_t>(t) * c + c0 + i];
    tail_bias[i] = bias != nullptr ? bias[c0 + i] : 0;
  }
  pack_depthwise(Level::kAvx2, tail_w, 3, 3, kDwChunk, tail_bias, input_offset,
                 static_cast<std::uint8_t*>(packed) + dw3x3_main_bytes(c));
}

MNAD_AVX2 void dw3x3_avx2_run(const ConvCall& call) {
  const ConvGeometry& g = *call.g;
  const Requantization& rq = *call.rq;
  const int c = g.in_c, full = c / kDwChunk, chunks = (c + kDwChunk - 1) / kDwChunk;
  const ActRange range = act_range(rq.act_min, rq.act_max);
  alignas(16) std::int8_t zero_points[kDwChunk];  // what a padded tap reads
  std::memset(zero_points, static_cast<std::int8_t>(-rq.input_offset), sizeof zero_points);
  const std::size_t row_bytes = static_cast<std::size_t>(g.in_w) * c;
  const std::int64_t acc_bound = accumulator_bound(call.bias, c, 9, rq.input_offset);
  const auto* packed = static_cast<const __m256i*>(call.packed);
  for (int b = 0; b < g.batches; ++b) {
    const std::int8_t* xb = call.x + static_cast<std::size_t>(b) * g.in_h * row_bytes;
    std::int8_t* yb = call.y + static_cast<std::size_t>(b) * g.out_h * g.out_w * c;
    for (int k = 0; k < chunks; ++k) {
      const int c0 = k < full ? k * kDwChunk : c - kDwChunk;  // the last chunk may overlap the one before
      // The overlapping chunk was packed after the level's chunks, which end with a partial one.
      const __m256i* w = packed + static_cast<std::size_t>(k < full ? k : chunks) * kDwChunkVectors;
      Rq8 rq_lo = dw_chunk_rq8(rq, c, c0, 0), rq_hi = dw_chunk_rq8(rq, c, c0, 1);
      clamp_negatives(&rq_lo, rq, acc_bound);
      clamp_negatives(&rq_hi, rq, acc_bound);
      for (int oy = 0; oy < g.out_h; ++oy) {
        const std::int8_t* rows[3];
        int col[3];
        for (int fy = 0; fy < 3; ++fy) {
          const int iy = oy * g.stride_h - g.pad_top + fy;
          const bool in = iy >= 0 && iy < g.in_h;
          rows[fy] = in ? xb + static_cast<std::size_t>(iy) * row_bytes + c0 : zero_points;
          col[fy] = in ? c : 0;
        }
        dw3x3_row(g, rows, col, zero_points, w, rq_lo, rq_hi, range,
                  yb + static_cast<std::size_t>(oy) * g.out_w * c + c0);
      }
    }
  }
}

// --- First convolution: the row's functions -----------------------------------------------------
bool conv3x3_in1_avx2_accepts(const ConvGeometry& g) {
  return g.in_c == 1 && g.filter_h == 3 && g.filter_w == 3 && g.dilation_h == 1 && g.dilation_w == 1;
}

std::size_t conv3x3_in1_avx2_packed_bytes(const ConvGeometry& g) {
  return static_cast<std::size_t>((g.out_c + 7) / 8) * kConvVectorBytes;
}

// Per 8 output channels: the 5 tap pairs as int16 (w[ch][2p], w[ch][2p+1]; tap 9 is 0), then the
// bias. The input offset is applied to the activations (padding contributes 0), not folded here.
void conv3x3_in1_avx2_pack(const ConvGeometry& g, const std::int8_t* w, const std::int32_t* bias, std::int32_t,
                           void* packed) {
  auto* out = static_cast<std::uint8_t*>(packed);
  for (int n0 = 0; n0 < g.out_c; n0 += 8) {
    for (int p = 0; p < kConvPairs; ++p) {
      std::int16_t v[16];
      for (int l = 0; l < 8; ++l) {
        const int ch = n0 + l;
        for (int j = 0; j < 2; ++j) {
          const int t = 2 * p + j;
          v[2 * l + j] = static_cast<std::int16_t>(ch < g.out_c && t < 9 ? w[static_cast<std::size_t>(ch) * 9 + t] : 0);
        }
      }
      std::memcpy(out, v, sizeof v);
      out += sizeof v;
    }
    std::int32_t b[8];
    for (int l = 0; l < 8; ++l) b[l] = n0 + l < g.out_c && bias != nullptr ? bias[n0 + l] : 0;
    std::memcpy(out, b, sizeof b);
    out += sizeof b;
  }
}

MNAD_AVX2 void conv3x3_in1_avx2_run(const ConvCall& call) {
  const ConvGeometry& g = *call.g;
  const Requantization& rq = *call.rq;
  const ActRange range = act_range(rq.act_min, rq.act_max);
  const auto* packed = static_cast<const __m256i*>(call.packed);
  const int pixels = g.out_h * g.out_w;
  alignas(32) std::int32_t pairs[kConvBlock * kConvPairs];
  const std::int64_t acc_bound = accumulator_bound(call.bias, g.out_c, 9, rq.input_offset);
  for (int b = 0; b < g.batches; ++b) {
    const std::int8_t* xb = call.x + static_cast<std::size_t>(b) * g.in_h * g.in_w;
    std::int8_t* yb = call.y + static_cast<std::size_t>(b) * pixels * g.out_c;
    for (int p0 = 0; p0 < pixels; p0 += kConvBlock) {
      const int count = pixels - p0 < kConvBlock ? pixels - p0 : kConvBlock;
      for (int i = 0; i < count; ++i)
        gather_taps(g, xb, rq.input_offset, (p0 + i) / g.out_w, (p0 + i) % g.out_w, pairs + kConvPairs * i);
      for (int n = 0; n < g.out_c; n += 8 * kConvGroups) {
        const int groups = std::min(kConvGroups, (g.out_c - n + 7) / 8);
        Rq8 q[kConvGroups];
        for (int k = 0; k < groups; ++k) {
          q[k] = make_rq8(rq.multipliers + n + 8 * k, rq.shifts + n + 8 * k, rq.output_offset);
          clamp_negatives(&q[k], rq, acc_bound);
        }
        const __m256i* v = packed + static_cast<std::size_t>(n / 8) * (kConvPairs + 1);
        std::int8_t* y = yb + static_cast<std::size_t>(p0) * g.out_c;
        switch (groups) {
          case 4:
            conv3x3_in1_block<4>(pairs, count, v, q, range, g.out_c, n, y);
            break;
          case 3:
            conv3x3_in1_block<3>(pairs, count, v, q, range, g.out_c, n, y);
            break;
          case 2:
            conv3x3_in1_block<2>(pairs, count, v, q, range, g.out_c, n, y);
            break;
          default:
            conv3x3_in1_block<1>(pairs, count, v, q, range, g.out_c, n, y);
            break;
        }
      }
    }
  }
}

}  // namespace micronet_ad::kernels::opt

#endif  // __x86_64__
