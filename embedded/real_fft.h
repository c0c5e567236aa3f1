// A portable single-precision 1024-point real FFT for the front end (micronet_ad::RealFft) on a
// microcontroller: no heap, no library beyond <cmath> at construction.
//
// The 1024 real samples are read as 512 complex ones z[n] = x[2n] + i·x[2n+1], transformed by an
// iterative radix-2 FFT (two stages per pass), and split into the real signal's bins 0..512 — the
// same real-input trick and the same split arithmetic as the host's FftwRealFft
// (src/host/audio/fftw_real_fft.cc). Output: X[k] = Σ x[n]·e^(−2πik/1024), unscaled, bins
// 0..512 interleaved (re, im). Twiddles and the bit-reversal permutation are static tables filled
// once, at the first construction.
#pragma once

#include "micronet_ad/frontend.h"

namespace board {

class PortableRealFft final : public micronet_ad::RealFft {
 public:
  // Fills the shared twiddle and bit-reversal tables on first use (once per program).
  PortableRealFft();
  PortableRealFft(const PortableRealFft&) = delete;
  PortableRealFft& operator=(const PortableRealFft&) = delete;

  // in: 1024 samples; out: 1026 floats (bins 0..512 as re, im). in and out may not overlap.
  void forward(const float* in, float* out) override;

  static constexpr int kPoints = micronet_ad::kFrameLength;  // real points
  static constexpr int kHalf = kPoints / 2;                  // complex points of the inner FFT

 private:
  void complex_fft(const float* in);  // work_ = FFT512 of in read as 512 complex values
  void split(float* out) const;       // work_ → bins 0..512 of the real signal

  float work_[2 * kHalf] = {};  // 4 KB: keep the object static, not on a small stack
};

}  // namespace board
