#include "host/audio/clip_features.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>

#include "host/audio/host_real_fft.h"

namespace micronet_ad::host {
namespace {

class FrameCollector final : public FrameObserver {
 public:
  explicit FrameCollector(std::vector<std::array<float, kMelBands>>* frames) : frames_(frames) {}
  void on_frame(std::int64_t, const float* db) override {
    frames_->emplace_back();
    std::memcpy(frames_->back().data(), db, sizeof(float) * kMelBands);
  }

 private:
  std::vector<std::array<float, kMelBands>>* frames_;
};

void check(const Status& status) {
  if (!status.ok()) throw std::runtime_error(status.message());
}

}  // namespace

ClipFeatures compute_clip_features(const float* samples, std::size_t count, const FrontendConfig& config,
                                   std::size_t chunk) {
  HostRealFft fft;
  auto frontend = std::make_unique<Frontend>();  // ~60 KB: keep it off the stack
  check(frontend->init(config, &fft));
  ClipFeatures features;
  // Sized up front: growing vectors of 256-byte frames and 5 KB windows costs copies and page faults.
  const std::int64_t padded =
      std::max<std::int64_t>(static_cast<std::int64_t>(count), min_clip_samples(config.framing));
  const std::int64_t frames = frame_count(config.framing, padded);
  features.logmel.reserve(static_cast<std::size_t>(frames));
  features.windows.reserve(static_cast<std::size_t>(window_count(frames)) + 1);  // +1: drain()'s spare
  FrameCollector collector(&features.logmel);
  frontend->set_frame_observer(&collector);

  auto drain = [&] {
    features.windows.emplace_back();
    while (frontend->pop_window(&features.windows.back())) features.windows.emplace_back();
    features.windows.pop_back();
  };
  const std::size_t step = chunk == 0 ? std::max<std::size_t>(count, 1) : chunk;
  for (std::size_t begin = 0; begin < count; begin += step) {
    const std::size_t end = std::min(count, begin + step);
    for (std::size_t done = begin; done < end;) {
      done += frontend->push(samples + done, end - done);
      drain();
    }
  }
  check(frontend->finish());
  drain();
  return features;
}

}  // namespace micronet_ad::host
