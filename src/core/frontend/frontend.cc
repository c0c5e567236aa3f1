// The streaming front end: Framer → LogMel → WindowAssembler → queue of completed windows.
#include <cmath>
#include <cstring>

#include "micronet_ad/frontend.h"

namespace micronet_ad {

const char* to_string(Framing framing) { return framing == Framing::kKit ? "kit" : "centered"; }
const char* to_string(Resize resize) { return resize == Resize::kDecimate ? "decimate" : "average"; }

bool parse_framing(const char* text, Framing* out) {
  if (text == nullptr) return false;
  if (std::strcmp(text, "centered") == 0)
    *out = Framing::kCentered;
  else if (std::strcmp(text, "kit") == 0)
    *out = Framing::kKit;
  else
    return false;
  return true;
}

bool parse_resize(const char* text, Resize* out) {
  if (text == nullptr) return false;
  if (std::strcmp(text, "average") == 0)
    *out = Resize::kAverage;
  else if (std::strcmp(text, "decimate") == 0)
    *out = Resize::kDecimate;
  else
    return false;
  return true;
}

std::int64_t frame_count(Framing framing, std::int64_t samples) {
  if (framing == Framing::kCentered) return samples > 0 ? 1 + samples / kHopLength : 0;
  return samples >= kFrameLength ? 1 + (samples - kFrameLength) / kHopLength : 0;
}

std::int64_t window_count(std::int64_t frames) {
  return frames >= kWindowFrames ? 1 + (frames - kWindowFrames) / kWindowStride : 0;
}

std::int64_t min_clip_samples(Framing framing) {
  const std::int64_t span = static_cast<std::int64_t>(kWindowFrames - 1) * kHopLength;
  return framing == Framing::kCentered ? span : span + kFrameLength;
}

Status Frontend::init(const FrontendConfig& config, RealFft* fft) {
  initialised_ = false;
  if (fft == nullptr) return Status::Error("front end: no FFT implementation given");
  if (config.framing != Framing::kCentered && config.framing != Framing::kKit) {
    return Status::Error("front end: unknown framing %d", static_cast<int>(config.framing));
  }
  if (config.resize != Resize::kAverage && config.resize != Resize::kDecimate) {
    return Status::Error("front end: unknown resize mode %d", static_cast<int>(config.resize));
  }
  if (!(config.input.scale > 0.0f) || !std::isfinite(config.input.scale)) {
    return Status::Error("front end: input scale %g must be a positive finite number",
                         static_cast<double>(config.input.scale));
  }
  if (config.input.zero_point < -128 || config.input.zero_point > 127) {
    return Status::Error("front end: input zero point %d is outside the int8 range",
                         static_cast<int>(config.input.zero_point));
  }
  config_ = config;
  log_mel_.set_fft(fft);
  initialised_ = true;
  reset();
  return Status::Ok();
}

void Frontend::reset() {
  framer_.reset(config_.framing);
  assembler_.reset(config_);
  finished_ = false;
  queue_head_ = 0;
  queue_count_ = 0;
  windows_completed_ = 0;
  std::memset(frame_db_, 0, sizeof(frame_db_));
}

bool Frontend::process_ready_frames() {
  while (framer_.frame_ready()) {
    const bool completes = assembler_.next_frame_completes_window();
    if (completes && queue_count_ == kMaxPendingWindows) return false;
    log_mel_.compute(framer_.frame(), frame_db_);
    framer_.advance();
    const std::int64_t index = assembler_.frames_added();
    Window* slot = completes ? &queue_[(queue_head_ + queue_count_) % kMaxPendingWindows] : nullptr;
    if (assembler_.add_frame(frame_db_, slot)) {
      ++queue_count_;
      ++windows_completed_;
    }
    if (observer_ != nullptr) observer_->on_frame(index, frame_db_);
  }
  return true;
}

std::size_t Frontend::push(const float* samples, std::size_t count) {
  if (!initialised_ || finished_) return 0;
  std::size_t used = 0;
  for (;;) {
    if (!process_ready_frames() || used == count) return used;
    used += framer_.feed(samples + used, count - used);
  }
}

Status Frontend::finish() {
  if (!initialised_) return Status::Error("front end: finish() before init()");
  if (finished_) return Status::Ok();
  const char* const full = "front end: %d windows wait to be popped; pop them before finish()";
  if (!process_ready_frames()) return Status::Error(full, queue_count_);
  if (framer_.samples_fed() == 0) {
    finished_ = true;
    return Status::Error("front end: the audio stream is empty (no samples, no window)");
  }
  framer_.end_input();
  for (;;) {
    const bool done = framer_.feed_tail();
    if (!process_ready_frames()) return Status::Error(full, queue_count_);
    if (done) break;
  }
  finished_ = true;
  return Status::Ok();
}

bool Frontend::pop_window(Window* out) {
  if (queue_count_ == 0) return false;
  *out = queue_[queue_head_];
  queue_head_ = (queue_head_ + 1) % kMaxPendingWindows;
  --queue_count_;
  return true;
}

}  // namespace micronet_ad
