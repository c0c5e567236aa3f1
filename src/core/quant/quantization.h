// Fixed-point requantization exactly as TensorFlow Lite's reference kernels do it
// (the double-rounding variant, TFLITE_SINGLE_ROUNDING off). Every kernel, reference or
// optimized, uses these definitions; docs/arithmetic.md is the contract.
#pragma once

#include <cstdint>
#include <limits>

#include "micronet_ad/model.h"

namespace micronet_ad::quant {

// Encodes a real multiplier as a Q31 significand and a power-of-two exponent (TFLite's
// QuantizeMultiplier): M = significand · 2^(shift − 31), rounding half away from zero.
void quantize_multiplier(double real_multiplier, std::int32_t* significand, int* shift);

// gemmlowp's SaturatingRoundingDoublingHighMul: (a·b·2 + 2^31 nudge) >> 32, saturating.
inline std::int32_t saturating_rounding_doubling_high_mul(std::int32_t a, std::int32_t b) {
  const bool overflow = a == b && a == std::numeric_limits<std::int32_t>::min();
  const std::int64_t ab = static_cast<std::int64_t>(a) * static_cast<std::int64_t>(b);
  const std::int32_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
  const std::int32_t high = static_cast<std::int32_t>((ab + nudge) / (std::int64_t{1} << 31));
  return overflow ? std::numeric_limits<std::int32_t>::max() : high;
}

// gemmlowp's RoundingDivideByPOT: arithmetic shift right, rounding half away from zero.
inline std::int32_t rounding_divide_by_pot(std::int32_t x, int exponent) {
  const std::int32_t mask = static_cast<std::int32_t>((std::int64_t{1} << exponent) - 1);
  const std::int32_t remainder = x & mask;
  const std::int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

// TFLite's MultiplyByQuantizedMultiplier. The left shift wraps like TFLite's int32 product
// does on every compiler it ships with; done in unsigned arithmetic to stay defined behaviour.
inline std::int32_t multiply_by_quantized_multiplier(std::int32_t x, std::int32_t significand, int shift) {
  const int left_shift = shift > 0 ? shift : 0;
  const int right_shift = shift > 0 ? 0 : -shift;
  const std::int32_t shifted = static_cast<std::int32_t>(static_cast<std::uint32_t>(x) << left_shift);
  return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(shifted, significand), right_shift);
}

// int32 addition that wraps like TFLite's plain `+` does on its compilers (only hostile models
// get near the limits), without signed-overflow undefined behaviour.
inline std::int32_t wrapping_add(std::int32_t a, std::int32_t b) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(a) + static_cast<std::uint32_t>(b));
}

// Everything after the accumulator: bias, requantize, output zero point, activation clamp.
inline std::int8_t requantize(std::int32_t acc, std::int32_t bias, std::int32_t significand, int shift,
                              std::int32_t output_offset, std::int32_t act_min, std::int32_t act_max) {
  std::int32_t v = multiply_by_quantized_multiplier(wrapping_add(acc, bias), significand, shift);
  v = wrapping_add(v, output_offset);
  v = v < act_min ? act_min : (v > act_max ? act_max : v);
  return static_cast<std::int8_t>(v);
}

// TFLite's CalculateActivationRangeQuantized for int8 outputs.
void activation_range(Activation activation, float output_scale, std::int32_t output_zero_point, std::int32_t* act_min,
                      std::int32_t* act_max);

}  // namespace micronet_ad::quant
