// Batch helper: a whole clip through the streaming front end, collecting every frame and window.
#pragma once

#include <array>
#include <cstddef>
#include <vector>

#include "micronet_ad/frontend.h"

namespace micronet_ad::host {

struct ClipFeatures {
  std::vector<std::array<float, kMelBands>> logmel;  // every frame's dB values, before the +30 shift
  std::vector<Window> windows;                       // patches and model inputs, in order
};

// Runs `count` samples (16 kHz mono, int16 scale) through a Frontend with the host FFT, pushing
// `chunk` samples at a time (0: all at once). Throws std::runtime_error on a front-end error
// (e.g. invalid config or an empty clip).
ClipFeatures compute_clip_features(const float* samples, std::size_t count, const FrontendConfig& config,
                                   std::size_t chunk = 0);
inline ClipFeatures compute_clip_features(const std::vector<float>& samples, const FrontendConfig& config,
                                          std::size_t chunk = 0) {
  return compute_clip_features(samples.data(), samples.size(), config, chunk);
}

}  // namespace micronet_ad::host
