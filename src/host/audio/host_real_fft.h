// The RealFft the host tools use for the front end (ClipScorer, compute_clip_features, bench):
// FFTW, ~7x faster than KissFFT per 1024-point frame (0.7 vs 4.9 µs) and as accurate (both within
// 1–3 float ulps of the float64 golden log-mel; the int8 inputs of all 88 shared clips are equal).
#pragma once

#include "host/audio/fftw_real_fft.h"

namespace micronet_ad::host {

using HostRealFft = FftwRealFft;

}  // namespace micronet_ad::host
