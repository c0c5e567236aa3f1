#include "host/audio/kiss_real_fft.h"

#include <kissfft/kiss_fftr.h>

#include <stdexcept>

namespace micronet_ad::host {

static_assert(sizeof(kiss_fft_scalar) == sizeof(float), "kissfft-float expected");

KissRealFft::KissRealFft() : config_(kiss_fftr_alloc(kFrameLength, 0, nullptr, nullptr)) {
  if (config_ == nullptr) throw std::runtime_error("KissFFT: cannot set up a 1024-point real FFT");
}

KissRealFft::~KissRealFft() { kiss_fftr_free(config_); }

void KissRealFft::forward(const float* in, float* out) {
  kiss_fft_cpx bins[kSpectrumBins];
  kiss_fftr(config_, in, bins);
  for (int k = 0; k < kSpectrumBins; ++k) {
    out[2 * k] = bins[k].r;
    out[2 * k + 1] = bins[k].i;
  }
}

}  // namespace micronet_ad::host
