// Optimized kernels for x86-64 (AVX2, AVX-512 VNNI), chosen at Interpreter::init from CPUID.
// The reference kernels stay the truth: every function here produces the same bytes.
//
// Convolutions become an int8 GEMM: y[m][n] = requantize(Σ_k (x[m][k] + input_offset)·w[n][k] + bias[n]).
// Weights are packed once at init into the caller's memory, together with a per-channel int32
// correction that folds the input offset (and, for VNNI, the +128 bias that turns the signed
// activations into the unsigned operand of vpdpbusd) and the bias:
//   Σ(x + off)·w = Σ(x ^ 0x80)·w + (off − 128)·Σw     (x ^ 0x80 = x + 128 as uint8)
// All of this is exact modulo 2^32, and the reference accumulator never leaves int32.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/kernel_params.h"

namespace micronet_ad::kernels::opt {

enum class Level : std::uint8_t { kReference, kAvx2, kAvx512Vnni };

bool cpu_supports(Level level);  // kReference: always true; the others false off x86-64
Level best_level();              // the fastest level this CPU runs
bool compiled(Level level);      // whether this build contains the level's kernels

// --- GEMM -------------------------------------------------------------------------------------
constexpr int kAvx512Rows = 6;  // micro-kernel rows (pixels)
constexpr int kAvx2Rows = 4;

// Bytes of packed weights for an N×K weight matrix; per-channel int32 arrays are padded to
// padded_channels(N) entries so that whole vectors can be loaded.
std::size_t gemm_packed_bytes(Level level, int k, int n);
inline int padded_channels(int n) { return (n + 15) / 16 * 16; }
// Bytes of per-invoke scratch the GEMM needs (AVX2 widens a band of rows to int16).
std::size_t gemm_scratch_bytes(Level level, int k);

// Packs w ([n][k], row stride k) and writes corr[padded_channels(n)] (bias and offset folding).
void pack_gemm(Level level, const std::int8_t* w, int k, int n, const std::int32_t* bias,
               std::int32_t input_offset, std::int8_t* packed, std::int32_t* corr);

struct GemmArgs {
  int m = 0, k = 0, n = 0;
  const std::int8_t* x = nullptr;  // m rows of k bytes, row stride k
  const std::int8_t* packed = nullptr;
  const std::int32_t* corr = nullptr;         // padded_channels(n)
  const std::int32_t* multipliers = nullptr;  // padded_channels(n)
  const std::int32_t* shifts = nullptr;       // padded_channels(n)
  std::int32_t input_offset = 0;              // used by AVX2 (widens x + offset to int16)
  std::int32_t output_offset = 0, act_min = -128, act_max = 127;
  std::int8_t* y = nullptr;        // m rows of n bytes
  void* scratch = nullptr;         // gemm_scratch_bytes(level, k)
};

// im2col for a general convolution: rows of filter_h·filter_w·in_c bytes, padding filled with
// the input zero point (so that it contributes (zp − zp)·w = 0, like the reference's skip).
void im2col(const ConvGeometry& g, std::int32_t input_offset, const std::int8_t* x, std::int8_t* cols);

// --- Depthwise --------------------------------------------------------------------------------
// Packed weights (and bias) for a depthwise convolution with depth_multiplier 1: per chunk of
// channels (AVX-512: 32 in two zmm, AVX2: 16 in two ymm), tap pairs as int16 (w[2p][ch], w[2p+1][ch])
// in two vectors whose lanes follow vpunpck{l,h}wd's order (lo: channels 8j+0..3 of each 128-bit
// lane j, hi: 8j+4..7), then the bias in the same two orders with the input offset folded in:
// b + off·Σw. Padded taps then read the zero point, which contributes zp·w − zp·w = 0 like the
// reference's skip.
constexpr int kMaxDepthwiseTaps = 64;  // larger filters stay on the reference kernel
std::size_t depthwise_packed_bytes(Level level, int taps, int channels);
void pack_depthwise(Level level, const std::int8_t* w, int taps, int channels, const std::int32_t* bias,
                    std::int32_t input_offset, void* packed);

#if defined(__x86_64__)
void gemm_avx512vnni(const GemmArgs& a);
void gemm_avx2(const GemmArgs& a);
// depth_multiplier 1 and at most kMaxDepthwiseTaps taps; rq.multipliers/shifts padded to
// padded_channels(out_c); `packed` from pack_depthwise for the same level.
void depthwise_avx512(const ConvGeometry& g, const Requantization& rq, const std::int8_t* x, const void* packed,
                      std::int8_t* y);
void depthwise_avx2(const ConvGeometry& g, const Requantization& rq, const std::int8_t* x, const void* packed,
                    std::int8_t* y);
#endif

}  // namespace micronet_ad::kernels::opt
