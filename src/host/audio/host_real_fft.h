// The RealFft the host tools use for the front end (ClipScorer, compute_clip_features, bench):
// FFTW, ~7x faster than KissFFT per 1024-point frame and as accurate (docs/frontend.md, "The FFT",
// has the measurements).
#pragma once

#include "host/audio/fftw_real_fft.h"

namespace micronet_ad::host {

using HostRealFft = FftwRealFft;

}  // namespace micronet_ad::host
