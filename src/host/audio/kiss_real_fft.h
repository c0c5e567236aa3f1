// A RealFft on KissFFT's real transform (kiss_fftr, float): the small, dependency-light choice.
// The host tools use FftwRealFft (host_real_fft.h), faster per frame (docs/frontend.md, "The FFT").
#pragma once

#include "micronet_ad/frontend.h"

struct kiss_fftr_state;

namespace micronet_ad::host {

class KissRealFft final : public RealFft {
 public:
  KissRealFft();  // throws std::runtime_error if KissFFT cannot allocate its tables
  ~KissRealFft();
  KissRealFft(const KissRealFft&) = delete;
  KissRealFft& operator=(const KissRealFft&) = delete;

  void forward(const float* in, float* out) override;

 private:
  kiss_fftr_state* config_;
};

}  // namespace micronet_ad::host
