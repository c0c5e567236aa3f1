// Parameters shared by every variant of a kernel (reference and optimized). Layout is NHWC;
// conv filters are [out_c][filter_h][filter_w][in_c], depthwise filters [1][filter_h][filter_w][out_c].
#pragma once

#include <cstdint>

namespace micronet_ad::kernels {

struct ConvGeometry {
  int batches = 1;
  int in_h = 0, in_w = 0, in_c = 0;
  int out_h = 0, out_w = 0, out_c = 0;
  int filter_h = 1, filter_w = 1;
  int stride_h = 1, stride_w = 1;
  int dilation_h = 1, dilation_w = 1;
  int pad_top = 0, pad_left = 0;
  int depth_multiplier = 1;  // depthwise only: out_c = in_c · depth_multiplier
};

// Per-output-channel requantization and the fused activation's clamp range.
struct Requantization {
  std::int32_t input_offset = 0;   // −(input zero point)
  std::int32_t output_offset = 0;  // output zero point
  std::int32_t act_min = -128, act_max = 127;
  const std::int32_t* multipliers = nullptr;  // Q31 significands, one per output channel
  const std::int32_t* shifts = nullptr;       // power-of-two exponents, one per output channel
};

struct PoolGeometry {
  int batches = 1;
  int in_h = 0, in_w = 0, channels = 0;
  int out_h = 0, out_w = 0;
  int filter_h = 1, filter_w = 1;
  int stride_h = 1, stride_w = 1;
  int pad_top = 0, pad_left = 0;
  std::int32_t act_min = -128, act_max = 127;
};

// int8 elementwise ADD as TFLite's reference kernel does it (docs/arithmetic.md#add): both
// inputs offset and shifted left by left_shift, rescaled to a common scale, summed, rescaled to the
// output. Multipliers are Q31 significands with shifts ≤ 0.
struct AddParams {
  std::int32_t input1_offset = 0, input2_offset = 0;  // −(input zero points)
  std::int32_t output_offset = 0;                     // output zero point
  int left_shift = 20;
  std::int32_t input1_multiplier = 0, input2_multiplier = 0, output_multiplier = 0;
  int input1_shift = 0, input2_shift = 0, output_shift = 0;
  std::int32_t act_min = -128, act_max = 127;
};

}  // namespace micronet_ad::kernels
