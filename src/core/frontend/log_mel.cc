// One frame → 64 log-mel dB values (SPEC §3).
#include <cmath>

#include "micronet_ad/frontend.h"

namespace micronet_ad {

LogMel::LogMel() {
  // Periodic Hann: w[i] = 0.5 − 0.5·cos(2πi/1024), computed in double.
  const double pi = std::acos(-1.0);
  for (int i = 0; i < kFrameLength; ++i) {
    window_[i] = static_cast<float>(0.5 - 0.5 * std::cos(2.0 * pi * i / kFrameLength));
  }
}

void LogMel::compute(const float* frame, float* db) {
  for (int i = 0; i < kFrameLength; ++i) windowed_[i] = frame[i] * window_[i];
  fft_->forward(windowed_, spectrum_);
  // Bins 0..511: the Nyquist bin 512 sits on the top filter's right corner (weight 0).
  for (int k = 0; k < kPowerBins; ++k) {
    const double re = spectrum_[2 * k], im = spectrum_[2 * k + 1];
    power_[k] = re * re + im * im;
  }
  filterbank_.apply(power_, energy_);
  for (int m = 0; m < kMelBands; ++m) db[m] = static_cast<float>(10.0 * std::log10(energy_[m]));
}

}  // namespace micronet_ad
