// Shared pieces of the Helium (MVE) kernels: exact vector requantization and small helpers.
// Included only by the arm_mve sources, inside their integer-MVE guard.
#pragma once

#include <arm_mve.h>

#include <cstdint>

#include "kernels/kernel_params.h"
#include "kernels/level.h"

namespace micronet_ad::kernels::mve {

// The level's kernel tables (defined in the kernel files, listed by level_mve.cc).
constexpr int kConvKernelCount = 2;
constexpr int kDepthwiseKernelCount = 1;
constexpr int kAveragePoolKernelCount = 1;
extern const ConvKernel kConvKernels[kConvKernelCount];
extern const ConvKernel kDepthwiseKernels[kDepthwiseKernelCount];
extern const PoolKernel kAveragePoolKernels[kAveragePoolKernelCount];

// One output channel's requantization as the scalar operands of vector instructions
// (quant::multiply_by_quantized_multiplier, docs/arithmetic.md):
//   left_shift   max(shift, 0): VSHL by a register wraps like quant's unsigned shift;
//   multiplier   VQRDMULH is exactly SaturatingRoundingDoublingHighMul;
//   right_shift  min(shift, 0): VRSHL by it rounds half UP, RoundingDivideByPOT half away from
//                zero. They differ only on negative ties, so negative values are first lowered
//                by one (saturating, which is exact at INT32_MIN), but only when right_shift < 0;
//   sign_shift   −31 when right_shift < 0, else −32: a logical VSHL by it turns a lane into 1 if
//                negative (0 otherwise), or into 0 when no rounding happens. One instruction.
struct ChannelRequant {
  std::int32_t multiplier, left_shift, right_shift, sign_shift;
};

inline ChannelRequant channel_requant(const Requantization& rq, int channel) {
  const std::int32_t shift = rq.shifts[channel];
  return ChannelRequant{rq.multipliers[channel], shift > 0 ? shift : 0, shift > 0 ? 0 : shift, shift < 0 ? -31 : -32};
}

// The output zero point and the activation clamp, as vectors.
struct OutputStage {
  std::int32_t offset;
  int32x4_t min, max;
};

inline OutputStage output_stage(const Requantization& rq) {
  return OutputStage{rq.output_offset, vdupq_n_s32(rq.act_min), vdupq_n_s32(rq.act_max)};
}

// acc (bias already added) → clamped output values, four outputs of one channel: the sequence
// the kernels' asm blocks run (VSHL, VQRDMULH, VSHL.U32 + VQSUB, VRSHL, VADD, VMAX, VMIN).
inline int32x4_t requantize(int32x4_t acc, const ChannelRequant& q, const OutputStage& out) {
  int32x4_t v = vshlq_r_s32(acc, q.left_shift);
  v = vqrdmulhq_n_s32(v, q.multiplier);
  const uint32x4_t negative = vshlq_r_u32(vreinterpretq_u32_s32(v), q.sign_shift);
  v = vqsubq_s32(v, vreinterpretq_s32_u32(negative));
  v = vrshlq_n_s32(v, q.right_shift);
  v = vaddq_n_s32(v, out.offset);
  return vminq_s32(vmaxq_s32(v, out.min), out.max);
}

// The same for four channels with their own parameters (vectors of the ChannelRequant fields).
struct VectorRequant {
  int32x4_t multiplier, left_shift, right_shift, sign_shift;
};

inline int32x4_t requantize(int32x4_t acc, const VectorRequant& q, const OutputStage& out) {
  int32x4_t v = vshlq_s32(acc, q.left_shift);
  v = vqrdmulhq_s32(v, q.multiplier);
  const uint32x4_t negative = vshlq_u32(vreinterpretq_u32_s32(v), q.sign_shift);
  v = vqsubq_s32(v, vreinterpretq_s32_u32(negative));
  v = vrshlq_s32(v, q.right_shift);
  v = vaddq_n_s32(v, out.offset);
  return vminq_s32(vmaxq_s32(v, out.min), out.max);
}

// A channel's requantization as one small record in memory, for the kernels' asm blocks (two
// LDRDs and two LDRs; GCC would otherwise keep these values in spilled registers). The asm
// blocks implement requantize() below instruction for instruction.
struct alignas(8) ChannelRecord {
  std::int32_t left_shift, multiplier;  // as ChannelRequant
  std::int32_t sign_shift, right_shift;
  std::int32_t output_offset;
  std::int32_t init;  // the kernel's start value (bias + offset term)
};

inline ChannelRecord channel_record(const Requantization& rq, int channel, std::int32_t init) {
  const ChannelRequant q = channel_requant(rq, channel);
  return ChannelRecord{q.left_shift, q.multiplier, q.sign_shift, q.right_shift, rq.output_offset, init};
}

// a + b modulo 2^32 (quant::wrapping_add), for scalar sums that may wrap.
inline std::int32_t wrap_add(std::int32_t a, std::int32_t b) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(a) + static_cast<std::uint32_t>(b));
}
inline std::int32_t wrap_mul(std::int32_t a, std::int32_t b) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(a) * static_cast<std::uint32_t>(b));
}

// Σ w[0..n) of int8 weights (|Σ| < 2^31 for any n a model can have).
inline std::int32_t sum_bytes(const std::int8_t* w, int n) {
  std::int32_t sum = 0;
  int i = 0;
  for (; i + 16 <= n; i += 16) sum = vaddvaq_s8(sum, vldrbq_s8(w + i));
  if (i < n) sum = vaddvaq_s8(sum, vldrbq_z_s8(w + i, vctp8q(n - i)));
  return sum;
}

}  // namespace micronet_ad::kernels::mve
