// The requantization arithmetic at its edges: TFLite's exact integer definitions (docs/arithmetic.md).
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

#include <gtest/gtest.h>

#include "quant/quantization.h"

namespace micronet_ad::quant {
namespace {

constexpr std::int32_t kMax = std::numeric_limits<std::int32_t>::max();
constexpr std::int32_t kMin = std::numeric_limits<std::int32_t>::min();

TEST(QuantizeMultiplier, ExactPowersAndFractions) {
  std::int32_t q = 0;
  int shift = 0;
  quantize_multiplier(0.5, &q, &shift);
  EXPECT_EQ(q, 1 << 30);
  EXPECT_EQ(shift, 0);
  quantize_multiplier(1.0, &q, &shift);
  EXPECT_EQ(q, 1 << 30);
  EXPECT_EQ(shift, 1);
  quantize_multiplier(0.75, &q, &shift);
  EXPECT_EQ(q, 0x60000000);
  EXPECT_EQ(shift, 0);
  quantize_multiplier(3.0, &q, &shift);  // large multiplier: left shift
  EXPECT_EQ(q, 0x60000000);
  EXPECT_EQ(shift, 2);
  quantize_multiplier(0.0, &q, &shift);
  EXPECT_EQ(q, 0);
  EXPECT_EQ(shift, 0);
}

TEST(QuantizeMultiplier, RoundsHalfAwayFromZeroAndRenormalises) {
  std::int32_t q = 0;
  int shift = 0;
  // 0.5 + 2^-32 is exactly half an ulp of Q31 above 2^30: rounds up.
  quantize_multiplier(0.5 + std::ldexp(1.0, -32), &q, &shift);
  EXPECT_EQ(q, (1 << 30) + 1);
  EXPECT_EQ(shift, 0);
  // Just below 1.0: the significand rounds to 2^31 and must be halved with shift + 1.
  quantize_multiplier(1.0 - std::ldexp(1.0, -40), &q, &shift);
  EXPECT_EQ(q, 1 << 30);
  EXPECT_EQ(shift, 1);
}

TEST(QuantizeMultiplier, TinyMultipliersFlushToZeroNegativeShiftsKept) {
  std::int32_t q = 0;
  int shift = 0;
  quantize_multiplier(std::ldexp(1.0, -40), &q, &shift);  // shift would be −39 < −31
  EXPECT_EQ(q, 0);
  EXPECT_EQ(shift, 0);
  quantize_multiplier(std::ldexp(0.75, -20), &q, &shift);
  EXPECT_EQ(q, 0x60000000);
  EXPECT_EQ(shift, -20);
}

TEST(SaturatingRoundingDoublingHighMul, Edges) {
  EXPECT_EQ(saturating_rounding_doubling_high_mul(kMin, kMin), kMax);  // the one overflow
  EXPECT_EQ(saturating_rounding_doubling_high_mul(kMax, kMax), kMax - 1);
  EXPECT_EQ(saturating_rounding_doubling_high_mul(kMin, kMax), kMin + 1);
  EXPECT_EQ(saturating_rounding_doubling_high_mul(1 << 30, 1 << 30), 1 << 29);
  // Ties: +0.5 rounds up, −0.5 rounds toward zero (gemmlowp's nudge).
  EXPECT_EQ(saturating_rounding_doubling_high_mul(1, 1 << 30), 1);
  EXPECT_EQ(saturating_rounding_doubling_high_mul(-1, 1 << 30), 0);
  EXPECT_EQ(saturating_rounding_doubling_high_mul(3, 1 << 30), 2);    // 1.5 → 2
  EXPECT_EQ(saturating_rounding_doubling_high_mul(-3, 1 << 30), -1);  // −1.5 → −1
}

TEST(RoundingDivideByPot, HalfAwayFromZero) {
  EXPECT_EQ(rounding_divide_by_pot(5, 1), 3);
  EXPECT_EQ(rounding_divide_by_pot(-5, 1), -3);
  EXPECT_EQ(rounding_divide_by_pot(4, 1), 2);
  EXPECT_EQ(rounding_divide_by_pot(-6, 2), -2);  // −1.5 → −2
  EXPECT_EQ(rounding_divide_by_pot(-5, 2), -1);  // −1.25 → −1
  EXPECT_EQ(rounding_divide_by_pot(6, 2), 2);    // 1.5 → 2
  EXPECT_EQ(rounding_divide_by_pot(123, 0), 123);
  EXPECT_EQ(rounding_divide_by_pot(kMax, 31), 1);
  EXPECT_EQ(rounding_divide_by_pot(kMin, 31), -1);
}

TEST(MultiplyByQuantizedMultiplier, DoubleRoundingDiffersFromSingleRounding) {
  // M = 0.5 · 2^-1 = 0.25. x = 1: exact 0.25 rounds to 0 once, but the high-mul step rounds
  // 0.5 up to 1 and the shift rounds 0.5 up again: TFLite's reference kernels give 1.
  EXPECT_EQ(multiply_by_quantized_multiplier(1, 1 << 30, -1), 1);
  // x = 5: exact 1.25 → 1 with one rounding; 2.5 → 3, then 1.5 → 2 with two.
  EXPECT_EQ(multiply_by_quantized_multiplier(5, 1 << 30, -1), 2);
  EXPECT_EQ(multiply_by_quantized_multiplier(-5, 1 << 30, -1), -1);  // −2.5 → −2, −1 → −1
}

// Against exact real arithmetic: double rounding is off by at most one from round(x·M).
TEST(MultiplyByQuantizedMultiplier, WithinOneOfExactProductOverRandomInputs) {
  std::mt19937 rng(1234);
  std::uniform_int_distribution<std::int32_t> xs(-(1 << 20), 1 << 20);
  std::uniform_int_distribution<std::int32_t> qs(1 << 30, kMax);
  std::uniform_int_distribution<int> shifts(-24, 4);
  for (int i = 0; i < 200000; ++i) {
    const std::int32_t x = xs(rng), q = qs(rng);
    const int shift = shifts(rng);
    const long double exact = static_cast<long double>(x) * q * std::ldexp(1.0L, shift - 31);
    const std::int32_t got = multiply_by_quantized_multiplier(x, q, shift);
    ASSERT_LE(std::fabs(static_cast<long double>(got) - exact), 1.0L) << x << " " << q << " " << shift;
  }
}

TEST(MultiplyByQuantizedMultiplier, LeftShiftWrapsLikeTflite) {
  // TFLite multiplies x by 2^shift in int32; large x wraps. We must match, defined-behaviour.
  const std::int32_t x = 1 << 29;
  const std::int32_t wrapped = static_cast<std::int32_t>(static_cast<std::uint32_t>(x) << 3);  // 2^32 → 0
  EXPECT_EQ(wrapped, 0);
  EXPECT_EQ(multiply_by_quantized_multiplier(x, 1 << 30, 3), 0);
  EXPECT_EQ(multiply_by_quantized_multiplier(1000, 1 << 30, 3), 4000);  // 1000 · 0.5 · 8
}

TEST(ActivationRange, Relu6NoneAndTinyScales) {
  std::int32_t lo = 0, hi = 0;
  activation_range(Activation::kRelu6, 0.1f, 0, &lo, &hi);
  EXPECT_EQ(lo, 0);
  EXPECT_EQ(hi, 60);
  activation_range(Activation::kRelu6, 0.0235f, -128, &lo, &hi);  // 6/0.0235 = 255.3 → 127
  EXPECT_EQ(lo, -128);
  EXPECT_EQ(hi, 127);
  activation_range(Activation::kRelu6, 1.5e-5f, -128, &lo, &hi);  // ad_small's late layers
  EXPECT_EQ(lo, -128);
  EXPECT_EQ(hi, 127);
  activation_range(Activation::kNone, 0.5f, 3, &lo, &hi);
  EXPECT_EQ(lo, -128);
  EXPECT_EQ(hi, 127);
  activation_range(Activation::kRelu, 0.5f, 3, &lo, &hi);
  EXPECT_EQ(lo, 3);
  EXPECT_EQ(hi, 127);
  activation_range(Activation::kReluN1To1, 0.01f, 0, &lo, &hi);
  EXPECT_EQ(lo, -100);
  EXPECT_EQ(hi, 100);
  activation_range(Activation::kRelu6, 1e-38f, 0, &lo, &hi);  // absurd scale: no overflow
  EXPECT_EQ(lo, 0);
  EXPECT_EQ(hi, 127);
}

}  // namespace
}  // namespace micronet_ad::quant
