// Sample stream → 1024-sample frames, hop 512, centered (reflection-padded) or kit framing.
#include <algorithm>
#include <cstring>

#include "micronet_ad/frontend.h"

namespace micronet_ad {

void Framer::reset(Framing framing) {
  framing_ = framing;
  length_ = 0;
  prefix_done_ = framing != Framing::kCentered;  // kit framing has no prefix
  raw_count_ = 0;
  clip_count_ = 0;
  ended_ = false;
  zeros_left_ = 0;
  reflection_left_ = 0;
}

std::size_t Framer::feed(const float* samples, std::size_t count) {
  if (ended_) return 0;
  std::size_t used = 0;
  // Centered framing builds its reflected prefix from the first 513 samples one at a time.
  while (used < count && !prefix_done_) append_clip_sample(samples[used++]);
  // After that a sample only lands in the buffer and the tail ring: copy whole runs.
  if (used < count && !frame_ready()) {
    const std::size_t room = static_cast<std::size_t>(kFrameLength - length_);
    const std::size_t n = count - used < room ? count - used : room;
    std::memcpy(buffer_ + length_, samples + used, sizeof(float) * n);
    length_ += static_cast<int>(n);
    remember_tail(samples + used, n);
    used += n;
  }
  raw_count_ += static_cast<std::int64_t>(used);
  return used;
}

void Framer::remember_tail(const float* samples, std::size_t count) {
  // Only the last kTailKeep samples survive in the ring; write just those, in at most two runs.
  const std::size_t skip = count > static_cast<std::size_t>(kTailKeep) ? count - kTailKeep : 0;
  std::size_t at = static_cast<std::size_t>((clip_count_ + static_cast<std::int64_t>(skip)) % kTailKeep);
  for (std::size_t i = skip; i < count;) {
    const std::size_t run = std::min(count - i, static_cast<std::size_t>(kTailKeep) - at);
    std::memcpy(tail_ + at, samples + i, sizeof(float) * run);
    i += run;
    at = 0;
  }
  clip_count_ += static_cast<std::int64_t>(count);
}

void Framer::append_clip_sample(float sample) {
  tail_[clip_count_ % kTailKeep] = sample;
  ++clip_count_;
  if (prefix_done_) {
    buffer_[length_++] = sample;
    return;
  }
  // Centered: x[i] goes to buffer_[512 + i]; once x[512] is in, write padded[j] = x[512 − j]
  // (j = 0..511) in front, and frame 0 = padded[0..1023] is complete.
  buffer_[kHopLength + clip_count_ - 1] = sample;
  if (clip_count_ == kHopLength + 1) {
    for (int j = 0; j < kHopLength; ++j) buffer_[j] = buffer_[2 * kHopLength - j];
    length_ = kFrameLength + 1;
    prefix_done_ = true;
  }
}

void Framer::end_input() {
  if (ended_) return;
  ended_ = true;
  const std::int64_t minimum = min_clip_samples(framing_);
  zeros_left_ = clip_count_ < minimum ? minimum - clip_count_ : 0;
  reflection_left_ = framing_ == Framing::kCentered ? kHopLength : 0;
}

bool Framer::feed_tail() {
  while (!frame_ready() && (zeros_left_ > 0 || reflection_left_ > 0)) {
    if (zeros_left_ > 0) {
      append_clip_sample(0.0f);
      --zeros_left_;
      continue;
    }
    // End reflection: x[N−1−j] for j = 1..512 (the clip has ≥ 32,256 samples by now).
    const int j = kHopLength - reflection_left_ + 1;
    buffer_[length_++] = tail_[(clip_count_ - 1 - j) % kTailKeep];
    --reflection_left_;
  }
  return zeros_left_ == 0 && reflection_left_ == 0 && !frame_ready();
}

void Framer::advance() {
  if (!frame_ready()) return;
  length_ -= kHopLength;
  std::memmove(buffer_, buffer_ + kHopLength, sizeof(float) * static_cast<std::size_t>(length_));
}

}  // namespace micronet_ad
