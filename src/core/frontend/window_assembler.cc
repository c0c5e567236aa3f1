// Ring of the last 64 frames → 32x32 patch (+30) and int8 input every 20 frames.
#include <cstring>

#include "micronet_ad/frontend.h"

namespace micronet_ad {

void WindowAssembler::reset(const FrontendConfig& config) {
  config_ = config;
  frames_ = 0;
}

bool WindowAssembler::next_frame_completes_window() const {
  const std::int64_t last = kWindowFrames - 1;
  return frames_ >= last && (frames_ - last) % kWindowStride == 0;
}

bool WindowAssembler::add_frame(const float* db, Window* out) {
  const bool completes = next_frame_completes_window();
  std::memcpy(ring_[frames_ % kWindowFrames], db, sizeof(float) * kMelBands);
  ++frames_;
  if (completes && out != nullptr) build(frames_ - kWindowFrames, out);
  return completes;
}

void WindowAssembler::build(std::int64_t first_frame, Window* out) const {
  out->index = first_frame / kWindowStride;
  out->first_frame = first_frame;
  // Values stay in double up to quantization so that only values within ~1e-6 of a rounding
  // boundary can round differently from a float64 reference.
  for (int t = 0; t < kPatchSide; ++t) {
    const float* even = frame_db(first_frame + 2 * t);
    const float* odd = frame_db(first_frame + 2 * t + 1);
    for (int m = 0; m < kPatchSide; ++m) {
      double db;
      if (config_.resize == Resize::kAverage) {
        db = (static_cast<double>(even[2 * m]) + even[2 * m + 1] + odd[2 * m] + odd[2 * m + 1]) / 4.0;
      } else {
        db = even[2 * m];
      }
      const double x = db + kDbShift;
      out->patch[m * kPatchSide + t] = static_cast<float>(x);
      out->input[m * kPatchSide + t] = quantize_input(x, config_.input);
    }
  }
}

}  // namespace micronet_ad
