// One frame → 64 log-mel dB values (docs/frontend.md).
#include <cmath>

#include "micronet_ad/frontend.h"

// On x86-64 Linux the hot loops are compiled twice, baseline and AVX2, picked at load time (an
// ifunc). AVX2 without FMA: both versions round every operation identically. Not with clang (the
// fuzz build): clang 14 leaves member functions with target_clones undefined at link time.
#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(__clang__)
#define MNAD_AVX2_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define MNAD_AVX2_CLONES
#endif

namespace micronet_ad {

LogMel::LogMel() {
  // Periodic Hann: w[i] = 0.5 − 0.5·cos(2πi/1024), computed in double.
  const double pi = std::acos(-1.0);
  for (int i = 0; i < kFrameLength; ++i) {
    window_[i] = static_cast<float>(0.5 - 0.5 * std::cos(2.0 * pi * i / kFrameLength));
  }
}

MNAD_AVX2_CLONES void LogMel::compute(const float* frame, float* db) {
  for (int i = 0; i < kFrameLength; ++i) windowed_[i] = frame[i] * window_[i];
  fft_->forward(windowed_, spectrum_);
  // Bins 0..511: the Nyquist bin 512 sits on the top filter's right corner (weight 0).
  for (int k = 0; k < kPowerBins; ++k) {
    const double re = spectrum_[2 * k], im = spectrum_[2 * k + 1];
    power_[k] = re * re + im * im;
  }
  filterbank_.apply(power_, energy_);
  // 10·log10(e) as (10/ln 10)·ln(e): one libm call instead of log10's two; the double results
  // differ in the last bit at most, far below the float the value is stored in.
  constexpr double kDbPerNeper = 4.3429448190325182765;  // 10 / ln(10)
  for (int m = 0; m < kMelBands; ++m) db[m] = static_cast<float>(kDbPerNeper * std::log(energy_[m]));
}

}  // namespace micronet_ad
