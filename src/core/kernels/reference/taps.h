// The taps of a convolution window that fall inside the input, along one axis.
#pragma once

namespace micronet_ad::kernels::reference {

// Taps [begin, end) of a window whose tap f reads input index start + f·dilation: exactly those
// with 0 ≤ start + f·dilation < in (begin ≥ end when none does).
struct TapRange {
  int begin, end;
};

inline TapRange tap_range(int start, int filter, int dilation, int in) {
  // First f with start + f·dilation ≥ 0, and one past the last with start + f·dilation < in.
  const int begin = start < 0 ? (-start + dilation - 1) / dilation : 0;
  const int room = in - start;  // taps must satisfy f·dilation < room
  const int last = room > 0 ? (room + dilation - 1) / dilation : 0;
  return TapRange{begin, last < filter ? last : filter};
}

}  // namespace micronet_ad::kernels::reference
