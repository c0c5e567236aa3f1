// Optimized kernels for x86-64 (AVX2, AVX-512 VNNI), chosen at Interpreter::init from CPUID.
// The reference kernels stay the truth: every function here produces the same bytes.
//
// Convolutions become an int8 GEMM: y[m][n] = requantize(Σ_k (x[m][k] + input_offset)·w[n][k] + bias[n]).
// Weights are packed once at init into the caller's memory, together with a per-channel int32
// correction that folds the input offset and the bias. AVX-512 VNNI's vpdpbusd multiplies unsigned
// by signed bytes: the packed weights are the unsigned operand, w + 128, and the activations stay
// signed, so that
//   Σ(x + off)·w = Σ(w + 128)·x − 128·Σx + off·Σw
// where Σx is one int32 per row, summed once per GEMM call (the kernel's scratch). All of this is
// exact modulo 2^32, and the reference accumulator never leaves int32.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/kernel_params.h"
#include "kernels/level.h"

namespace micronet_ad::kernels::opt {

enum class Level : std::uint8_t { kReference, kAvx2, kAvx512Vnni };

bool cpu_supports(Level level);  // kReference: always true; the others false off x86-64
Level best_level();              // the fastest level this CPU runs
bool compiled(Level level);      // whether this build contains the level's kernels

// --- GEMM -------------------------------------------------------------------------------------
constexpr int kAvx512Rows = 6;  // micro-kernel rows (pixels)
constexpr int kAvx2Rows = 6;
constexpr int kAvx2Vectors = 2;  // of 8 channels
// AVX2 widens this many rows to int16 at once and runs every column block of the weights over them
// before the next rows, so that the packed weights stream from L2 once per block, not per 4 rows.
constexpr int kAvx2BlockRows = 36;

// Bytes of packed weights for an N×K weight matrix; per-channel int32 arrays are padded to
// padded_channels(N) entries so that whole vectors can be loaded.
std::size_t gemm_packed_bytes(Level level, int k, int n);
inline int padded_channels(int n) { return (n + 15) / 16 * 16; }
// Bytes of per-invoke scratch the GEMM needs for m rows of depth k (AVX2 widens a band of rows to
// int16; AVX-512 keeps −128·Σx per row).
std::size_t gemm_scratch_bytes(Level level, int m, int k);

// AVX-512 packs each whole block of 64 output channels so that after requantization two
// vpackssdw and one vpacksswb (which interleave per 128-bit lane) leave the 64 bytes in channel
// order: lane l of the block's vector j (0..3) holds channel 16·(l/4) + 4·j + l%4. Vectors of a
// partial block hold channels in order. Returns the channel (0..) held by lane l of vector v.
constexpr int kAvx512BlockVectors = 4;
inline int avx512_gemm_lane_channel(int n, int v, int l) {
  const int block = v / kAvx512BlockVectors, j = v % kAvx512BlockVectors;
  if ((block + 1) * 16 * kAvx512BlockVectors > n) return v * 16 + l;
  return block * 16 * kAvx512BlockVectors + 16 * (l / 4) + 4 * j + l % 4;
}

// Packs w ([n][k], row stride k) and writes corr[padded_channels(n)] (bias and offset folding).
void pack_gemm(Level level, const std::int8_t* w, int k, int n, const std::int32_t* bias, std::int32_t input_offset,
               std::int8_t* packed, std::int32_t* corr);

struct GemmArgs {
  int m = 0, k = 0, n = 0;
  const std::int8_t* x = nullptr;  // m rows of k bytes, row stride k
  const std::int8_t* packed = nullptr;
  const std::int32_t* corr = nullptr;         // padded_channels(n)
  const std::int32_t* multipliers = nullptr;  // padded_channels(n)
  const std::int32_t* shifts = nullptr;       // padded_channels(n)
  std::int32_t input_offset = 0;              // used by AVX2 (widens x + offset to int16)
  std::int32_t output_offset = 0, act_min = -128, act_max = 127;
  std::int8_t* y = nullptr;                 // m rows of n bytes
  void* scratch = nullptr;                  // gemm_scratch_bytes(level, m, k)
  int lda = 0;                              // row stride of x in bytes (0: k); bytes k..lda−1 are readable
  const std::int32_t* row_terms = nullptr;  // AVX-512: −128·Σx per row if known (im2col), else computed
};

// Row stride for im2col rows at `level`: AVX-512 pads rows to whole dwords, so that the GEMM reads
// every group of four with one load.
inline int gemm_lda(Level level, int k) { return level == Level::kAvx512Vnni ? (k + 3) / 4 * 4 : k; }

// im2col for a general convolution: rows of k = filter_h·filter_w·in_c bytes at stride lda ≥ k
// (bytes k..lda−1 zero), spatial padding filled with the input zero point (so that it contributes
// (zp − zp)·w = 0, like the reference's skip). With row_terms, also writes −128·Σ(row) per row
// (mod 2^32), the AVX-512 GEMM's row correction.
void im2col(const ConvGeometry& g, std::int32_t input_offset, const std::int8_t* x, std::int8_t* cols, int lda,
            std::int32_t* row_terms);

// --- Depthwise --------------------------------------------------------------------------------
// Packed weights (and bias) for a depthwise convolution with depth_multiplier 1.
// AVX-512, 3x3 filters: per chunk of 64 channels, for each filter column fx four vectors of 16
// dwords (w[0][fx][ch], w[1][fx][ch], w[2][fx][ch], 0) — the unsigned-by-signed vpdpbusd operand
// for an input column whose three rows were interleaved by vpunpck{l,h}{bw,wd} — with channels in
// avx512_gemm_lane_channel's block order (which those unpacks produce and the packs undo); then the
// four vectors of bias + (input_offset − 128)·Σw (the activations enter as x + 128, unsigned).
// Other filters, and AVX2: per chunk of channels (AVX-512: 32 in two zmm, AVX2: 16 in two ymm),
// tap pairs as int16 (w[2p][ch], w[2p+1][ch]) in two vectors whose lanes follow vpunpck{l,h}wd's
// order (lo: channels 8j+0..3 of each 128-bit lane j, hi: 8j+4..7), then the bias in the same two
// orders with the input offset folded in: b + off·Σw.
// Padded taps read the zero point, which contributes zp·w − zp·w = 0 like the reference's skip.
constexpr int kMaxDepthwiseTaps = 64;  // larger filters stay on the reference kernel
std::size_t depthwise_packed_bytes(Level level, int filter_h, int filter_w, int channels);
void pack_depthwise(Level level, const std::int8_t* w, int filter_h, int filter_w, int channels,
                    const std::int32_t* bias, std::int32_t input_offset, void* packed);

// --- Average pooling ----------------------------------------------------------------------------
// The AVX-512 kernel divides in double, which is exact (trunc of a correctly rounded quotient of
// two integers below 2^31) while the window's pixel count stays below 2^22; larger stay reference.
constexpr int kMaxPoolWindow = 1 << 20;

#if defined(__x86_64__)
void average_pool_avx512(const PoolGeometry& g, const std::int8_t* x, std::int8_t* y);
void gemm_avx512vnni(const GemmArgs& a);
void gemm_avx2(const GemmArgs& a);
// depth_multiplier 1 and at most kMaxDepthwiseTaps taps; rq.multipliers/shifts padded to
// padded_channels(out_c); `packed` from pack_depthwise for the same level.
void depthwise_avx512(const ConvGeometry& g, const Requantization& rq, const std::int8_t* x, const void* packed,
                      std::int8_t* y);
void depthwise_avx2(const ConvGeometry& g, const Requantization& rq, const std::int8_t* x, const void* packed,
                    std::int8_t* y);

// The AVX2 kernels of the models' 3x3 shapes (x86_avx2_3x3.cc), as a kernel row's functions.
bool dw3x3_avx2_accepts(const ConvGeometry& g);
std::size_t dw3x3_avx2_packed_bytes(const ConvGeometry& g);
void dw3x3_avx2_pack(const ConvGeometry& g, const std::int8_t* w, const std::int32_t* bias, std::int32_t input_offset,
                     void* packed);
void dw3x3_avx2_run(const ConvCall& call);
bool conv3x3_in1_avx2_accepts(const ConvGeometry& g);
std::size_t conv3x3_in1_avx2_packed_bytes(const ConvGeometry& g);
void conv3x3_in1_avx2_pack(const ConvGeometry& g, const std::int8_t* w, const std::int32_t* bias,
                           std::int32_t input_offset, void* packed);
void conv3x3_in1_avx2_run(const ConvCall& call);

// The AVX-VNNI GEMM (x86_avxvnni_gemm.inc, compiled by x86_avxvnni.cc), as a kernel row's
// functions: 1x1 convolutions and, through im2col, the others.
bool avxvnni_supported();  // CPUID: AVX2 and AVX-VNNI
namespace avxvnni {
std::size_t packed_bytes(const ConvGeometry& g);
void pack(const ConvGeometry& g, const std::int8_t* w, const std::int32_t* bias, std::int32_t input_offset,
          void* packed);
bool accepts_pointwise(const ConvGeometry& g);
std::size_t pointwise_scratch(const ConvGeometry& g);
void run_pointwise(const ConvCall& c);
bool accepts_im2col(const ConvGeometry& g);
std::size_t im2col_scratch(const ConvGeometry& g);
void run_im2col(const ConvCall& c);
}  // namespace avxvnni
#endif

}  // namespace micronet_ad::kernels::opt
