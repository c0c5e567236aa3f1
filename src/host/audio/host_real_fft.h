// The RealFft the host tools use for the front end (ClipScorer, compute_clip_features, bench):
// FFTW, the fastest of the three and as accurate (measured in docs/frontend.md, "The FFT").
#pragma once

#include "host/audio/fftw_real_fft.h"

namespace micronet_ad::host {

using HostRealFft = FftwRealFft;

}  // namespace micronet_ad::host
