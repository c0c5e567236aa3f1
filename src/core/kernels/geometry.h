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

// The part of a pooling window inside the input, along one axis: the window starts at input
// index `start` (negative inside the padding) and its taps [begin, end) fall inside the input.
struct WindowSpan {
  int start, begin, end;
};
inline WindowSpan window_span(int out_index, int stride, int pad_before, int filter, int in) {
  const int start = out_index * stride - pad_before;
  return WindowSpan{start, start < 0 ? -start : 0, filter < in - start ? filter : in - start};
}

}  // namespace micronet_ad::kernels
