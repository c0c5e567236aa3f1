// A kernel level: the optimized kernels one instruction-set extension brings, as one table row.
// Interpreter::init asks the chosen level, per operator, for the first kernel that accepts the
// layer; an operator no kernel accepts runs the reference kernel (kernels/reference), which is
// the truth every kernel here must equal byte for byte (docs/kernels.md).
//
// A level is one folder (kernels/<level>/) holding its kernels, its packed layouts and its row,
// plus one line in levels.cc. Nothing else changes when a level is added.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/kernel_params.h"
#include "micronet_ad/interpreter.h"

namespace micronet_ad::kernels {

// What a convolution kernel sees when it runs.
struct ConvCall {
  const ConvGeometry* g;     // the layer's geometry, or a row band of it (fewer in/out rows, pad_top moved)
  const Requantization* rq;  // multipliers/shifts padded to the level's channel_padding
  const std::int8_t* x;      // NHWC input (of the band: its first row is the band's first input row)
  const std::int8_t* w;      // the model's filter, read in place (flash on a microcontroller)
  const std::int32_t* bias;  // the model's bias, or nullptr
  const void* packed;        // what pack() wrote at init, or nullptr
  void* scratch;             // scratch_bytes() of the layer, shared by all layers; or nullptr
  std::int8_t* y;            // NHWC output
};

struct ConvKernel {
  const char* name;  // datatype, shape and ISA: "conv1x1_s8_dsp"
  // Asked once at init with the whole layer's geometry. run() then gets that geometry or any row
  // band of it (band fusion, src/core/plan/band_fusion.h).
  bool (*accepts)(const ConvGeometry& g);
  void (*run)(const ConvCall& call);
  // Optional: bytes of weights packed at init into the interpreter's memory (nullptr: none).
  std::size_t (*packed_bytes)(const ConvGeometry& g);
  void (*pack)(const ConvGeometry& g, const std::int8_t* w, const std::int32_t* bias, std::int32_t input_offset,
               void* packed);
  // Optional: per-invoke scratch for the whole layer (nullptr: none).
  std::size_t (*scratch_bytes)(const ConvGeometry& g);
};

struct PoolKernel {
  const char* name;
  bool (*accepts)(const PoolGeometry& g);
  void (*run)(const PoolGeometry& g, const std::int8_t* x, std::int8_t* y);
};

struct KernelLevel {
  KernelSet set;
  bool (*cpu_supports)();  // checked at init (CPUID on x86; compile-time ACLE macros on Arm)
  int channel_padding;     // per-channel arrays are padded to a multiple of this (whole-vector loads)
  std::size_t alignment;   // of the arena, packed weights and scratch
  const ConvKernel* conv;  // tried in order
  int conv_count;
  const ConvKernel* depthwise;
  int depthwise_count;
  const PoolKernel* average_pool;
  int average_pool_count;
};

// The levels this build contains, slowest first (levels.cc). The reference level has no kernels.
const KernelLevel* const* compiled_levels(int* count);
const KernelLevel* find_level(KernelSet set);  // nullptr when not compiled

// The rows, each defined in its folder and compiled only where its ISA exists.
extern const KernelLevel kReferenceLevel;
extern const KernelLevel kAvx2Level;            // kernels/x86_avx2
extern const KernelLevel kAvxVnniLevel;         // kernels/optimized: AVX2 + VEX vpdpbusd (AVX-VNNI)
extern const KernelLevel kAvx512VnniLevel;      // kernels/x86_avx512
extern const KernelLevel kArmDspLevel;          // kernels/arm_dsp: Cortex-M4/M7/M33/M55 DSP extension
extern const KernelLevel kArmMveLevel;          // kernels/arm_mve: Cortex-M55/M85 Helium
extern const KernelLevel kArmNeonLevel;         // kernels/arm_neon: AArch64 Advanced SIMD
extern const KernelLevel kArmNeonDotprodLevel;  // kernels/arm_neon: AArch64 with SDOT (Armv8.2-A dotprod)

// The first kernel of `kernels[0..count)` accepting g, or nullptr.
inline const ConvKernel* find_conv(const ConvKernel* kernels, int count, const ConvGeometry& g) {
  for (int i = 0; i < count; ++i)
    if (kernels[i].accepts(g)) return &kernels[i];
  return nullptr;
}

}  // namespace micronet_ad::kernels
