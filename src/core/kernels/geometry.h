// SAME/VALID geometry exactly as TFLite computes it (ComputeOutSize, ComputePaddingWithOffset).
#pragma once

#include "micronet_ad/model.h"

namespace micronet_ad::kernels {

inline int output_size(Padding padding, int in, int filter, int stride, int dilation) {
  const int effective = (filter - 1) * dilation + 1;
  return padding == Padding::kSame ? (in + stride - 1) / stride : (in - effective + stride) / stride;
}

// Padding before the first row/column; SAME puts the odd extra element after, not before.
inline int padding_before(Padding padding, int in, int out, int filter, int stride, int dilation) {
  if (padding == Padding::kValid) return 0;
  const int effective = (filter - 1) * dilation + 1;
  const int total = (out - 1) * stride + effective - in;
  return total > 0 ? total / 2 : 0;
}

}  // namespace micronet_ad::kernels
