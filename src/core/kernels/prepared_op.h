// What Interpreter::init decides for one operator, so that invoke() only runs kernels.
#pragma once

#include <cstdint>

#include "kernels/level.h"

namespace micronet_ad::kernels {

struct PreparedOp {
  std::int32_t input_offset = 0;   // −input zero point
  std::int32_t output_offset = 0;  // output zero point
  std::int32_t act_min = -128, act_max = 127;
  const std::int32_t* multipliers = nullptr;  // per output channel, padded to the level's channel_padding
  const std::int32_t* shifts = nullptr;
  int pad_top = 0, pad_left = 0;
  // The level's kernel for this operator; nullptr: the reference kernel.
  const ConvKernel* conv = nullptr;
  const PoolKernel* pool = nullptr;
  const void* packed = nullptr;  // what conv->pack wrote, in the interpreter's memory
  // > 0: this op is the second of a band-fused pair and reads its input as a band of this many
  // rows, which the previous op (not run on its own) computes on demand.
  int band_rows = 0;
  std::int32_t input2_offset = 0;  // ops with two activation inputs (ADD): −input 1's zero point
};

}  // namespace micronet_ad::kernels
