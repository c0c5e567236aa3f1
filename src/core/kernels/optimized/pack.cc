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
    case Level::kAvx512Vnni: return nv * static_cast<std::size_t>((k + 3) / 4) * 4;
    case Level::kAvx2: return nv * static_cast<std::size_t>((k + 1) / 2) * 2 * sizeof(std::int16_t);
    default: return 0;
  }
}

std::size_t gemm_scratch_bytes(Level level, int k) {
  if (level != Level::kAvx2) return 0;
  return static_cast<std::size_t>(kAvx2Rows) * static_cast<std::size_t>((k + 1) / 2) * 2 * sizeof(std::int16_t);
}

void pack_gemm(Level level, const std::int8_t* w, int k, int n, const std::int32_t* bias,
               std::int32_t input_offset, std::int8_t* packed, std::int32_t* corr) {
  const int np = padded_channels(n);
  for (int c = 0; c < np; ++c) {
    std::int32_t v = 0;
    if (c < n) {
      v = bias != nullptr ? bias[c] : 0;
      if (level == Level::kAvx512Vnni) {
        std::int32_t sum = 0;
        for (int i = 0; i < k; ++i) sum = wrap_add(sum, w[static_cast<std::size_t>(c) * k + i]);
        v = wrap_add(v, wrap_mul(input_offset - 128, sum));
      }
    }
    corr[c] = v;
  }
  if (level == Level::kAvx512Vnni) {
    // [n/16][k/4][16 channels][4 k], zero-padded.
    const int kg = (k + 3) / 4;
    for (int j = 0; j < np / 16; ++j)
      for (int g = 0; g < kg; ++g)
        for (int c = 0; c < 16; ++c)
          for (int t = 0; t < 4; ++t) {
            const int oc = j * 16 + c, ic = g * 4 + t;
            packed[((static_cast<std::size_t>(j) * kg + g) * 16 + c) * 4 + t] =
                (oc < n && ic < k) ? w[static_cast<std::size_t>(oc) * k + ic] : 0;
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

void im2col(const ConvGeometry& g, std::int32_t input_offset, const std::int8_t* x, std::int8_t* cols) {
  const auto zp = static_cast<std::int8_t>(-input_offset);
  const std::size_t c = static_cast<std::size_t>(g.in_c);
  for (int b = 0; b < g.batches; ++b)
    for (int oy = 0; oy < g.out_h; ++oy)
      for (int ox = 0; ox < g.out_w; ++ox)
        for (int fy = 0; fy < g.filter_h; ++fy) {
          const int iy = oy * g.stride_h - g.pad_top + fy * g.dilation_h;
          for (int fx = 0; fx < g.filter_w; ++fx) {
            const int ix = ox * g.stride_w - g.pad_left + fx * g.dilation_w;
            const bool outside = iy < 0 || iy >= g.in_h || ix < 0 || ix >= g.in_w;
            const std::int8_t* src = outside ? nullptr : x + ((static_cast<std::size_t>(b) * g.in_h + iy) * g.in_w + ix) * c;
            if (c == 1) *cols = outside ? zp : *src;  // MicroNet's first layer: one channel
            else if (outside) std::memset(cols, zp, c);
            else std::memcpy(cols, src, c);
            cols += c;
          }
        }
}

void pack_depthwise(const std::int8_t* w, int taps, int channels, const std::int32_t* bias,
                    std::int32_t* w32, std::int32_t* bias32) {
  const int np = padded_channels(channels);
  for (int t = 0; t < taps; ++t)
    for (int c = 0; c < np; ++c)
      w32[static_cast<std::size_t>(t) * np + c] = c < channels ? w[static_cast<std::size_t>(t) * channels + c] : 0;
  for (int c = 0; c < np; ++c) bias32[c] = (c < channels && bias != nullptr) ? bias[c] : 0;
}

}  // namespace micronet_ad::kernels::opt
