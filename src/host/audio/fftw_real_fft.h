// The host's fast RealFft: FFTW (libfftw3f, SIMD codelets) with the real-input trick.
#pragma once

#include "micronet_ad/frontend.h"

struct fftwf_plan_s;

namespace micronet_ad::host {

// The 1024 real samples, read as 512 complex values z[n] = x[2n] + i·x[2n+1], go through one
// 512-point complex FFT; a split step then gives bins 0..512 of the real DFT. For this size
// FFTW_ESTIMATE plans that complex FFT with AVX codelets but its own real-input (r2c) transform
// with scalar ones, twice as slow (docs/frontend.md, "The FFT"). FFTW_ESTIMATE (no timing-dependent
// plan choice) keeps the output bits the same from run to run. Plans are made and destroyed under
// a process-wide lock (FFTW's planner is not thread-safe); forward() runs concurrently on
// different objects (one per thread, like ClipScorer's), not on one object.
class FftwRealFft final : public RealFft {
 public:
  // Throws std::runtime_error if FFTW cannot make the plan. The split step runs on AVX2 when the
  // CPU has it and `allow_avx2` (false: the SSE2 version, for tests; both give the same bits).
  explicit FftwRealFft(bool allow_avx2 = true);
  ~FftwRealFft();
  FftwRealFft(const FftwRealFft&) = delete;
  FftwRealFft& operator=(const FftwRealFft&) = delete;

  // Reads `in` in place when it has the plan's SIMD alignment (LogMel's buffer has), else
  // copies it to an aligned buffer first; both give the same bits.
  void forward(const float* in, float* out) override;

 private:
  static constexpr int kHalf = kFrameLength / 2;  // complex FFT size
  // Z = FFT512 of the samples as complex pairs → bins 0..512 of the real DFT.
  void split(const float* Z, float* out) const;
  fftwf_plan_s* plan_ = nullptr;
  float* in_ = nullptr;            // fftwf_malloc'd (SIMD-aligned), 2·kHalf floats: the bounce buffer
  float* out_ = nullptr;           // fftwf_malloc'd, 2·kHalf floats: Z[k] interleaved
  float twiddle_[2 * kHalf] = {};  // e^(−2πik/1024), k = 0..511, interleaved (re, im)
  bool avx2_ = false;
};

}  // namespace micronet_ad::host
