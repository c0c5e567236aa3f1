// Shared pieces of the AArch64 NEON kernels (levels `neon` and `neon_dotprod`): exact vector
// requantization and the kernels' entry points. Included only by the arm_neon sources, inside
// their __aarch64__ guard. Everything here has internal linkage: the dotprod translation unit
// compiles its copy for Armv8.2-A+dotprod, the others for plain Armv8-A, and no inline function
// may be shared (merged by the linker) between the two.
#pragma once

#include <arm_neon.h>

#include <cstddef>
#include <cstdint>

#include "kernels/kernel_params.h"
#include "kernels/level.h"

namespace micronet_ad::kernels::neon {

// Per-channel arrays (multipliers, shifts, the packed start values) are padded to 8 channels:
// the kernels load them 4 or 8 at a time.
constexpr int kChannelPadding = 8;
inline int padded(int n) { return (n + kChannelPadding - 1) / kChannelPadding * kChannelPadding; }

// The kernels (conv2d_neon.cc, conv2d_neondot.cc, depthwise_conv2d_neon.cc).
bool accepts_conv1x1(const ConvGeometry& g);
// pack_conv1x1's start values (int32 per padded channel) and its flag (kChannelPadding int32 more).
inline std::size_t conv1x1_init_bytes(int out_c) {
  return sizeof(std::int32_t) * static_cast<std::size_t>(padded(out_c) + kChannelPadding);
}
std::size_t conv1x1_packed_bytes(const ConvGeometry& g);
void pack_conv1x1(const ConvGeometry& g, const std::int8_t* w, const std::int32_t* bias, std::int32_t input_offset,
                  void* packed);
void run_conv1x1(const ConvCall& call);  // SMULL + SADALP (Armv8-A), weights in place
// SDOT by element (Armv8.2-A dotprod), weights packed in blocks of 8 channels; only where the CPU has it.
std::size_t conv1x1_dot_packed_bytes(const ConvGeometry& g);
void pack_conv1x1_dot(const ConvGeometry& g, const std::int8_t* w, const std::int32_t* bias, std::int32_t input_offset,
                      void* packed);
void run_conv1x1_dot(const ConvCall& call);

bool accepts_conv3x3_in1(const ConvGeometry& g);
std::size_t conv3x3_in1_packed_bytes(const ConvGeometry& g);
void pack_conv3x3_in1(const ConvGeometry& g, const std::int8_t* w, const std::int32_t* bias, std::int32_t input_offset,
                      void* packed);
void run_conv3x3_in1(const ConvCall& call);

bool accepts_depthwise3x3(const ConvGeometry& g);
void run_depthwise3x3(const ConvCall& call);

namespace {

// quant::requantize for four channels with their own parameters, bit for bit (docs/arithmetic.md):
//   SSHL by max(shift, 0)   the left shift; by register it wraps like quant's unsigned shift;
//   SQRDMULH                is SaturatingRoundingDoublingHighMul exactly (gemmlowp's own NEON path);
//   SRSHL by min(shift, 0)  rounds half up; RoundingDivideByPOT rounds half away from zero. They
//                           differ only on negative ties, so negative values are first lowered by
//                           one (saturating: exact at INT32_MIN), only when there is a right shift:
//                           (v & right) >> 31 is −1 exactly for negative v and a negative `right`;
//   then the output zero point (wrapping add), the clamp.
// `acc` already holds the bias (added modulo 2^32, like quant::wrapping_add).
struct Requant4 {
  int32x4_t multiplier, left, right;
};

inline Requant4 requant4(const std::int32_t* multipliers, const std::int32_t* shifts) {
  const int32x4_t shift = vld1q_s32(shifts);
  const int32x4_t zero = vdupq_n_s32(0);
  return Requant4{vld1q_s32(multipliers), vmaxq_s32(shift, zero), vminq_s32(shift, zero)};
}

struct OutputStage {
  int32x4_t offset, min, max;
};

inline OutputStage output_stage(const Requantization& rq) {
  return OutputStage{vdupq_n_s32(rq.output_offset), vdupq_n_s32(rq.act_min), vdupq_n_s32(rq.act_max)};
}

inline int32x4_t requantize(int32x4_t acc, const Requant4& q, const OutputStage& out) {
  int32x4_t v = vshlq_s32(acc, q.left);
  v = vqrdmulhq_s32(v, q.multiplier);
  const int32x4_t fixup = vshrq_n_s32(vandq_s32(v, q.right), 31);
  v = vrshlq_s32(vqaddq_s32(v, fixup), q.right);
  v = vaddq_s32(v, out.offset);
  return vminq_s32(vmaxq_s32(v, out.min), out.max);
}

// Eight clamped int32 values → eight bytes (truncating, like the reference's static_cast).
inline int8x8_t narrow8(int32x4_t lo, int32x4_t hi) { return vmovn_s16(vcombine_s16(vmovn_s32(lo), vmovn_s32(hi))); }

// a + b and a · b modulo 2^32 (quant::wrapping_add), for the packed start values.
inline std::int32_t wrap_add(std::int32_t a, std::int32_t b) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(a) + static_cast<std::uint32_t>(b));
}
inline std::int32_t wrap_mul(std::int32_t a, std::int32_t b) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(a) * static_cast<std::uint32_t>(b));
}

}  // namespace
}  // namespace micronet_ad::kernels::neon
