// The host's RealFft: KissFFT's real transform (kiss_fftr, float).
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
