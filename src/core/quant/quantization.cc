#include "quant/quantization.h"

#include <cmath>

namespace micronet_ad::quant {

void quantize_multiplier(double real_multiplier, std::int32_t* significand, int* shift) {
  if (real_multiplier == 0.0) {
    *significand = 0;
    *shift = 0;
    return;
  }
  const double fraction = std::frexp(real_multiplier, shift);  // in [0.5, 1)
  std::int64_t q = static_cast<std::int64_t>(std::round(fraction * static_cast<double>(std::int64_t{1} << 31)));
  if (q == (std::int64_t{1} << 31)) {  // rounding reached 1.0
    q /= 2;
    ++*shift;
  }
  if (*shift < -31) {  // every bit would be shifted out: flush to zero as TFLite does
    *shift = 0;
    q = 0;
  }
  *significand = static_cast<std::int32_t>(q);
}

namespace {
// zero_point + round(real / scale) as TFLite computes it (float division, round half away from
// zero). The quotient is clamped to ±2^30 first: the result is clamped to int8 anyway, and an
// absurd scale must not overflow the conversion. zero_point is validated to lie in int8 range.
std::int32_t quantize_real(float real, float scale, std::int32_t zero_point) {
  float q = std::round(real / scale);
  constexpr float kLimit = 1073741824.0f;
  if (!(q <= kLimit)) q = (q != q) ? 0.0f : kLimit;  // NaN (0/0) → 0
  if (q < -kLimit) q = -kLimit;
  return zero_point + static_cast<std::int32_t>(q);
}
}  // namespace

void activation_range(Activation activation, float scale, std::int32_t zero_point, std::int32_t* act_min,
                      std::int32_t* act_max) {
  constexpr std::int32_t kMin = -128, kMax = 127;
  std::int32_t lo = kMin, hi = kMax;
  switch (activation) {
    case Activation::kNone:
      break;
    case Activation::kRelu:
      lo = quantize_real(0.0f, scale, zero_point);
      break;
    case Activation::kRelu6:
      lo = quantize_real(0.0f, scale, zero_point);
      hi = quantize_real(6.0f, scale, zero_point);
      break;
    case Activation::kReluN1To1:
      lo = quantize_real(-1.0f, scale, zero_point);
      hi = quantize_real(1.0f, scale, zero_point);
      break;
  }
  *act_min = lo > kMin ? lo : kMin;
  *act_max = hi < kMax ? hi : kMax;
}

}  // namespace micronet_ad::quant
