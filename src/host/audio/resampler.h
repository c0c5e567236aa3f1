// Streaming conversion of interleaved audio at any rate and channel count to 16 kHz mono.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

struct soxr;

namespace micronet_ad::host {

// Channels are averaged first (mixing and resampling are both linear, so the order does not
// matter and mixing first costs less); then libsoxr (SOXR_HQ, linear phase) resamples to
// 16 kHz. At 16 kHz the mixed samples pass through unchanged (bit-exact).
class StreamResampler {
 public:
  // Throws std::invalid_argument for a rate outside (0, 10 MHz] or channels outside 1..1024,
  // std::runtime_error if libsoxr refuses.
  StreamResampler(double input_rate, int channels);
  ~StreamResampler();
  StreamResampler(StreamResampler&&) noexcept;
  StreamResampler& operator=(StreamResampler&&) noexcept;

  // Appends the 16 kHz mono output for `frames` interleaved input frames to *out.
  void push(const float* interleaved, std::size_t frames, std::vector<float>* out);
  // Flushes the resampler's delay line; call once at the end of the stream.
  void finish(std::vector<float>* out);

  double input_rate() const { return input_rate_; }
  int channels() const { return channels_; }
  bool passthrough() const { return !soxr_; }

 private:
  struct SoxrDeleter {
    void operator()(soxr* resampler) const;
  };
  void resample(const float* mono, std::size_t count, std::vector<float>* out);

  double input_rate_;
  int channels_;
  std::unique_ptr<soxr, SoxrDeleter> soxr_;  // null when no rate change is needed
  std::vector<float> mono_;                  // scratch for the channel mix
  bool finished_ = false;
};

}  // namespace micronet_ad::host
