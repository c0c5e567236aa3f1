#include "host/audio/resampler.h"

#include <soxr.h>

#include <iomanip>
#include <sstream>
#include <stdexcept>
#include <string>

#include "micronet_ad/frontend.h"

namespace micronet_ad::host {

void StreamResampler::SoxrDeleter::operator()(soxr* resampler) const { soxr_delete(resampler); }

StreamResampler::StreamResampler(double input_rate, int channels) : input_rate_(input_rate), channels_(channels) {
  if (!(input_rate > 0.0 && input_rate <= 1e7)) {
    std::ostringstream rate;  // "20000000", not std::to_string's "20000000.000000"
    rate << std::setprecision(12) << input_rate;
    throw std::invalid_argument("unsupported sample rate " + rate.str() + " Hz (the resampler takes up to 10 MHz)");
  }
  if (channels < 1 || channels > 1024) {
    throw std::invalid_argument("unsupported channel count " + std::to_string(channels));
  }
  if (input_rate == kSampleRateHz) return;
  const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
  const soxr_quality_spec_t quality = soxr_quality_spec(SOXR_HQ, 0);
  soxr_error_t error = nullptr;
  soxr_.reset(soxr_create(input_rate, kSampleRateHz, 1, &error, &io, &quality, nullptr));
  if (error != nullptr || !soxr_) {
    throw std::runtime_error(std::string("libsoxr: cannot resample ") + std::to_string(input_rate) +
                             " Hz to 16 kHz: " + (error ? error : "unknown error"));
  }
}

StreamResampler::~StreamResampler() = default;
StreamResampler::StreamResampler(StreamResampler&&) noexcept = default;
StreamResampler& StreamResampler::operator=(StreamResampler&&) noexcept = default;

void StreamResampler::push(const float* interleaved, std::size_t frames, std::vector<float>* out) {
  if (finished_) throw std::logic_error("StreamResampler::push after finish");
  if (frames == 0) return;
  const float* mono = interleaved;
  if (channels_ > 1) {
    mono_.resize(frames);
    for (std::size_t i = 0; i < frames; ++i) {
      double sum = 0.0;
      for (int c = 0; c < channels_; ++c) sum += interleaved[i * channels_ + c];
      mono_[i] = static_cast<float>(sum / channels_);
    }
    mono = mono_.data();
  }
  if (!soxr_) {
    out->insert(out->end(), mono, mono + frames);
    return;
  }
  resample(mono, frames, out);
}

void StreamResampler::finish(std::vector<float>* out) {
  if (finished_) return;
  finished_ = true;
  if (soxr_) resample(nullptr, 0, out);  // null input: end of stream, flush
}

void StreamResampler::resample(const float* mono, std::size_t count, std::vector<float>* out) {
  constexpr std::size_t kChunk = 8192;
  float buffer[kChunk];
  std::size_t consumed = 0;
  for (;;) {
    std::size_t in_done = 0, out_done = 0;
    const float* in = mono != nullptr ? mono + consumed : nullptr;
    soxr_error_t error = soxr_process(soxr_.get(), in, count - consumed, &in_done, buffer, kChunk, &out_done);
    if (error != nullptr) throw std::runtime_error(std::string("libsoxr: ") + error);
    out->insert(out->end(), buffer, buffer + out_done);
    consumed += in_done;
    // Done when the input is used up and soxr had less output than room (nothing left to drain).
    if (consumed == count && out_done < kChunk) return;
  }
}

}  // namespace micronet_ad::host
