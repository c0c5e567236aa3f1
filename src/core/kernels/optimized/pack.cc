// Portable parts of the optimized kernels: CPU detection, weight packing, im2col.
#include <cstring>

#include "kernels/optimized/optimized.h"

namespace micronet_ad::kernels::opt {
namespace {

std::int32_t wrap_add(std::int32_t a, std::int32_t b) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(a) + static_cast<std::uint32_t>(b));
}
std::int32_t wrap_mul(std::int32_t a, std::int32_t b) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(a) * static_cast<std::uint32_t>(b));
}

}  // namespace

bool compiled(Level level) {
#if defined(__x86_64__)
  (void)level;
  return true;
#else
  return level == Level::kReference;
#endif
}

bool cpu_supports(Level level) {
  switch (level) {
    case Level::kReference:
      return true;
#if defined(__x86_64__)
    case Level::kAvx2:
      return __builtin_cpu_supports("avx2");
    case Level::kAvx512Vnni:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
#endif
    default:
      return false;
  }
}

Level best_level() {
  if (cpu_supports(Level::kAvx512Vnni)) return Level::kAvx512Vnni;
  if (cpu_supports(Level::kAvx2)) return Level::kAvx2;
  return Level::kReference;
}

std::size_t gemm_packed_bytes(Level level, int k, int n) {
  const std::size_t nv = static_cast<std::size_t>(padded_channels(n));
  switch (level) {
    case Level::kAvx512Vnni:
      return nv * static_cast<std::size_t>((k + 3) / 4) * 4;
    case Level::kAvx2:
      return nv * static_cast<std::size_t>((k + 1) / 2) * 2 * sizeof(std::int16_t);
    default:
      return 0;
  }
}

std::size_t gemm_scratch_bytes(Level level, int m, int k) {
  switch (level) {
    case Level::kAvx512Vnni:
      return static_cast<std::size_t>(m) * sizeof(std::int32_t);
    case Level::kAvx2:
      return static_cast<std::size_t>(m < kAvx2BlockRows ? m : kAvx2BlockRows) * static_cast<std::size_t>((k + 1) / 2) *
             2 * sizeof(std::int16_t);
    default:
      return 0;
  }
}

void pack_gemm(Level level, const std::int8_t* w, int k, int n, const std::int32_t* bias, std::int32_t input_offset,
               std::int8_t* packed, std::int32_t* corr) {
  const int np = padded_channels(n);
  // Channel held by slot c of the packed order (AVX-512 permutes whole 64-channel blocks).
  auto channel = [&](int c) { return level == Level::kAvx512Vnni ? avx512_gemm_lane_channel(n, c / 16, c % 16) : c; };
  for (int c = 0; c < np; ++c) {
    const int oc = channel(c);
    std::int32_t v = 0;
    if (oc < n) {
      v = bias != nullptr ? bias[oc] : 0;
      std::int32_t sum = 0;
      for (int i = 0; i < k; ++i) sum = wrap_add(sum, w[static_cast<std::size_t>(oc) * k + i]);
      if (level == Level::kAvx512Vnni) v = wrap_add(v, wrap_mul(input_offset, sum));
    }
    corr[c] = v;
  }
  if (level == Level::kAvx512Vnni) {
    // [n/16][k/4][16 channels][4 k] of w + 128 (unsigned), zero past k and n: a zero unsigned
    // byte contributes nothing whatever the activation byte it meets.
    const int kg = (k + 3) / 4;
    for (int j = 0; j < np / 16; ++j)
      for (int g = 0; g < kg; ++g)
        for (int c = 0; c < 16; ++c)
          for (int t = 0; t < 4; ++t) {
            const int oc = channel(j * 16 + c), ic = g * 4 + t;
            const int value = (oc < n && ic < k) ? w[static_cast<std::size_t>(oc) * k + ic] + 128 : 0;
            packed[((static_cast<std::size_t>(j) * kg + g) * 16 + c) * 4 + t] =
                static_cast<std::int8_t>(static_cast<std::uint8_t>(value));
          }
  } else if (level == Level::kAvx2) {
    // int16 [n/8][k/2][8 channels][2 k], zero-padded.
    const int kp = (k + 1) / 2;
    auto* p16 = reinterpret_cast<std::int16_t*>(packed);
    for (int j = 0; j < np / 8; ++j)
      for (int p = 0; p < kp; ++p)
        for (int c = 0; c < 8; ++c)
          for (int t = 0; t < 2; ++t) {
            const int oc = j * 8 + c, ic = p * 2 + t;
            p16[((static_cast<std::size_t>(j) * kp + p) * 8 + c) * 2 + t] =
                static_cast<std::int16_t>((oc < n && ic < k) ? w[static_cast<std::size_t>(oc) * k + ic] : 0);
          }
  }
}

namespace {

std::int32_t row_term(std::uint32_t sum) { return static_cast<std::int32_t>(sum * 0xFFFFFF80u); }  // −128·Σ, wrapping

// MicroNet's first layer: one input channel, 3x3, no dilation. Nine bytes per row gathered from
// three input rows (or the zero point), summed on the way.
void im2col_1ch_3x3(const ConvGeometry& g, std::int8_t zp, const std::int8_t* x, std::int8_t* cols, int lda,
                    std::int32_t* row_terms) {
  for (int b = 0; b < g.batches; ++b)
    for (int oy = 0; oy < g.out_h; ++oy) {
      const std::int8_t* rows[3];
      for (int fy = 0; fy < 3; ++fy) {
        const int iy = oy * g.stride_h - g.pad_top + fy;
        rows[fy] = iy >= 0 && iy < g.in_h ? x + (static_cast<std::size_t>(b) * g.in_h + iy) * g.in_w : nullptr;
      }
      for (int ox = 0; ox < g.out_w; ++ox, cols += lda) {
        const int ix0 = ox * g.stride_w - g.pad_left;
        const bool inside = ix0 >= 0 && ix0 + 2 < g.in_w;
        std::uint32_t sum = 0;
        for (int fy = 0; fy < 3; ++fy)
          for (int fx = 0; fx < 3; ++fx) {
            const int ix = ix0 + fx;
            const std::int8_t v = rows[fy] != nullptr && (inside || (ix >= 0 && ix < g.in_w)) ? rows[fy][ix] : zp;
            cols[3 * fy + fx] = v;
            sum += static_cast<std::uint32_t>(static_cast<std::int32_t>(v));
          }
        for (int i = 9; i < lda; ++i) cols[i] = 0;
        if (row_terms != nullptr) *row_terms++ = row_term(sum);
      }
    }
}

}  // namespace

void im2col(const ConvGeometry& g, std::int32_t input_offset, const std::int8_t* x, std::int8_t* cols, int lda,
            std::int32_t* row_terms) {
  const auto zp = static_cast<std::int8_t>(-input_offset);
  if (g.in_c == 1 && g.filter_h == 3 && g.filter_w == 3 && g.dilation_h == 1 && g.dilation_w == 1) {
    im2col_1ch_3x3(g, zp, x, cols, lda, row_terms);
    return;
  }
  const std::size_t c = static_cast<std::size_t>(g.in_c);
  const std::size_t k = c * static_cast<std::size_t>(g.filter_h) * static_cast<std::size_t>(g.filter_w);
  const std::size_t row_bytes = static_cast<std::size_t>(g.in_w) * c;
  for (int b = 0; b < g.batches; ++b)
    for (int oy = 0; oy < g.out_h; ++oy)
      for (int ox = 0; ox < g.out_w; ++ox) {
        std::int8_t* out = cols;
        const int ix0 = ox * g.stride_w - g.pad_left;
        const bool cols_in = ix0 >= 0 && ix0 + (g.filter_w - 1) * g.dilation_w < g.in_w;  // the usual case
        for (int fy = 0; fy < g.filter_h; ++fy) {
          const int iy = oy * g.stride_h - g.pad_top + fy * g.dilation_h;
          if (iy < 0 || iy >= g.in_h) {
            std::memset(cols, zp, c * static_cast<std::size_t>(g.filter_w));
            cols += c * static_cast<std::size_t>(g.filter_w);
            continue;
          }
          const std::int8_t* row = x + (static_cast<std::size_t>(b) * g.in_h + iy) * row_bytes;
          for (int fx = 0; fx < g.filter_w; ++fx) {
            const int ix = ix0 + fx * g.dilation_w;
            const bool inside = cols_in || (ix >= 0 && ix < g.in_w);
            if (c == 1)
              *cols = inside ? row[ix] : zp;  // MicroNet's first layer: one channel
            else if (inside)
              std::memcpy(cols, row + static_cast<std::size_t>(ix) * c, c);
            else
              std::memset(cols, zp, c);
            cols += c;
          }
        }
        for (std::size_t i = k; i < static_cast<std::size_t>(lda); ++i) *cols++ = 0;
        if (row_terms != nullptr) {
          std::uint32_t sum = 0;
          for (std::size_t i = 0; i < k; ++i) sum += static_cast<std::uint32_t>(static_cast<std::int32_t>(out[i]));
          *row_terms++ = row_term(sum);
        }
      }
}

namespace {
// Depthwise channels per chunk: AVX-512 32 (one ymm of int8), AVX2 16 (one xmm).
int dw_chunk(Level level) { return level == Level::kAvx512Vnni ? 32 : 16; }

// Channel (within its chunk) of int32 lane i of the lo (half 0) or hi (half 1) vector: vpunpck
// {l,h}wd interleave per 128-bit lane, so lane j of lo holds channels 8j+0..3, of hi 8j+4..7.
int dw_lane_channel(int half, int i) { return 8 * (i / 4) + 4 * half + i % 4; }
}  // namespace

namespace {

bool avx512_3x3(Level level, int filter_h, int filter_w) {
  return level == Level::kAvx512Vnni && filter_h == 3 && filter_w == 3;
}

constexpr int kDw3x3Chunk = 64;
constexpr std::size_t kDw3x3ChunkBytes = (3 * 4 * 64) + 4 * 16 * sizeof(std::int32_t);  // weights, bias

}  // namespace

std::size_t depthwise_packed_bytes(Level level, int filter_h, int filter_w, int channels) {
  if (avx512_3x3(level, filter_h, filter_w))
    return static_cast<std::size_t>((channels + kDw3x3Chunk - 1) / kDw3x3Chunk) * kDw3x3ChunkBytes;
  const int taps = filter_h * filter_w;
  const int chunk = dw_chunk(level);
  const std::size_t chunks = static_cast<std::size_t>((channels + chunk - 1) / chunk);
  // Per chunk: (pairs + bias) x (lo, hi) vectors of chunk/2 int32.
  return chunks * static_cast<std::size_t>((taps + 1) / 2 + 1) * 2 * static_cast<std::size_t>(chunk) * 2;
}

void pack_depthwise(Level level, const std::int8_t* w, int filter_h, int filter_w, int channels,
                    const std::int32_t* bias, std::int32_t input_offset, void* packed) {
  const int taps = filter_h * filter_w;
  auto weight = [&](int t, int c) -> std::int32_t {
    return (t < taps && c < channels) ? w[static_cast<std::size_t>(t) * channels + c] : 0;
  };
  auto weight_sum = [&](int c) {
    std::int32_t sum = 0;
    for (int t = 0; t < taps; ++t) sum = wrap_add(sum, weight(t, c));
    return sum;
  };
  auto* out = static_cast<std::uint8_t*>(packed);
  if (avx512_3x3(level, filter_h, filter_w)) {
    for (int c0 = 0; c0 < channels; c0 += kDw3x3Chunk) {
      for (int fx = 0; fx < 3; ++fx)
        for (int v = 0; v < 4; ++v)
          for (int l = 0; l < 16; ++l) {
            const int c = c0 + avx512_gemm_lane_channel(kDw3x3Chunk, v, l);
            for (int fy = 0; fy < 4; ++fy) *out++ = static_cast<std::uint8_t>(fy < 3 ? weight(3 * fy + fx, c) : 0);
          }
      for (int v = 0; v < 4; ++v)
        for (int l = 0; l < 16; ++l) {
          const int c = c0 + avx512_gemm_lane_channel(kDw3x3Chunk, v, l);
          std::int32_t b = 0;
          if (c < channels) b = wrap_add(bias != nullptr ? bias[c] : 0, wrap_mul(input_offset - 128, weight_sum(c)));
          std::memcpy(out, &b, sizeof b);
          out += sizeof b;
        }
    }
    return;
  }
  // Per chunk of `chunk` channels: for each tap pair p, two vectors (lo, hi) of int16 pairs
  // (w[2p][ch], w[2p+1][ch]) in dw_lane_channel order; then the bias, b + off·Σw, in both orders.
  const int chunk = dw_chunk(level), lanes = chunk / 2;
  const int pairs = (taps + 1) / 2;
  for (int c0 = 0; c0 < channels; c0 += chunk) {
    for (int p = 0; p < pairs; ++p)
      for (int half = 0; half < 2; ++half) {
        std::int16_t v[32];
        for (int i = 0; i < lanes; ++i) {
          const int c = c0 + dw_lane_channel(half, i);
          v[2 * i] = static_cast<std::int16_t>(weight(2 * p, c));
          v[2 * i + 1] = static_cast<std::int16_t>(weight(2 * p + 1, c));
        }
        std::memcpy(out, v, sizeof(std::int16_t) * 2 * lanes);
        out += sizeof(std::int16_t) * 2 * lanes;
      }
    for (int half = 0; half < 2; ++half) {
      std::int32_t v[16];
      for (int i = 0; i < lanes; ++i) {
        const int c = c0 + dw_lane_channel(half, i);
        v[i] = c < channels ? wrap_add(bias != nullptr ? bias[c] : 0, wrap_mul(input_offset, weight_sum(c))) : 0;
      }
      std::memcpy(out, v, sizeof(std::int32_t) * lanes);
      out += sizeof(std::int32_t) * lanes;
    }
  }
}

}  // namespace micronet_ad::kernels::opt
