#include "host/audio/kiss_real_fft.h"

#include <kissfft/kiss_fftr.h>

#include <stdexcept>

namespace micronet_ad::host {

static_assert(sizeof(kiss_fft_scalar) == sizeof(float), "kissfft-float expected");
// kiss_fft_cpx is {r, i}: exactly the interleaved layout RealFft::forward delivers.
static_assert(sizeof(kiss_fft_cpx) == 2 * sizeof(float), "kiss_fft_cpx must be two packed floats");

KissRealFft::KissRealFft() : config_(kiss_fftr_alloc(kFrameLength, 0, nullptr, nullptr)) {
  if (config_ == nullptr) throw std::runtime_error("KissFFT: cannot set up a 1024-point real FFT");
}

KissRealFft::~KissRealFft() { kiss_fftr_free(config_); }

void KissRealFft::forward(const float* in, float* out) {
  // The library writes straight into `out`: no bounce buffer, no copy.
  kiss_fftr(config_, in, reinterpret_cast<kiss_fft_cpx*>(out));
}

}  // namespace micronet_ad::host
