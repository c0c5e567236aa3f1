#include "host/stream/pcm_source.h"

#include <alsa/asoundlib.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <mutex>
#include <stdexcept>

namespace micronet_ad::host {
namespace {

// Little-endian decoding by bytes: correct on any host byte order.
float s16le(const unsigned char* p) {
  const auto value = static_cast<std::int16_t>(static_cast<std::uint16_t>(p[0] | (p[1] << 8)));
  return static_cast<float>(value) / 32768.0f;  // what libsndfile's normalised float read gives
}

float f32le(const unsigned char* p) {
  const std::uint32_t bits =
      std::uint32_t(p[0]) | (std::uint32_t(p[1]) << 8) | (std::uint32_t(p[2]) << 16) | (std::uint32_t(p[3]) << 24);
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

// alsa-lib prints its own "ALSA lib pcm.c:…: Unknown PCM …" on stderr before returning an error
// code, which our one-line message already reports; its handler is process-wide, set once.
void ignore_alsa_message(const char*, int, const char*, int, const char*, ...) {}

void silence_alsa_library() {
  static std::once_flag once;
  std::call_once(once, [] { snd_lib_error_set_handler(&ignore_alsa_message); });
}

bool stop_requested(int stop_fd) {
  if (stop_fd < 0) return false;
  pollfd p{stop_fd, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;
}

class FdSource final : public PcmSource {
 public:
  FdSource(int fd, const PcmFormat& format, std::string name, int stop_fd)
      : fd_(fd),
        stop_fd_(stop_fd),
        format_(format),
        name_(std::move(name)),
        frame_bytes_(bytes_per_sample(format.format) * static_cast<std::size_t>(format.channels)) {}

  ReadStatus read(float* interleaved, std::size_t max_frames, std::size_t* frames) override {
    *frames = 0;
    if (max_frames == 0) throw std::invalid_argument(name_ + ": read of 0 frames");
    const std::size_t want = max_frames * frame_bytes_;
    if (bytes_.size() < want) bytes_.resize(want);
    for (;;) {
      if (!wait_readable()) return ReadStatus::kInterrupted;
      const ssize_t got = ::read(fd_, bytes_.data() + pending_, want - pending_);
      if (got < 0) {
        if (errno == EINTR) return ReadStatus::kInterrupted;
        if (errno == EAGAIN || errno == EWOULDBLOCK) continue;  // non-blocking fd: wait again
        throw std::runtime_error(name_ + ": read failed: " + std::strerror(errno));
      }
      if (got == 0) {
        dropped_ = pending_;  // an incomplete last frame cannot be used
        pending_ = 0;
        return ReadStatus::kEnd;
      }
      pending_ += static_cast<std::size_t>(got);
      const std::size_t complete = pending_ / frame_bytes_;
      if (complete == 0) continue;  // less than one frame so far
      const std::size_t samples = complete * static_cast<std::size_t>(format_.channels);
      const std::int64_t bad = convert_samples(bytes_.data(), samples, format_.format, interleaved);
      if (bad >= 0) {
        throw std::runtime_error(name_ + ": non-finite sample (NaN or infinity) at frame " +
                                 std::to_string(frames_read_ + bad / format_.channels));
      }
      const std::size_t used = complete * frame_bytes_;
      std::memmove(bytes_.data(), bytes_.data() + used, pending_ - used);  // keep the partial frame
      pending_ -= used;
      frames_read_ += static_cast<std::int64_t>(complete);
      *frames = complete;
      return ReadStatus::kData;
    }
  }

  const PcmFormat& format() const override { return format_; }
  const std::string& name() const override { return name_; }
  std::size_t dropped_bytes() const override { return dropped_; }

 private:
  // Blocks in poll() until the input or the stop descriptor is readable; false on a stop.
  bool wait_readable() {
    pollfd fds[2] = {{fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    for (;;) {
      const int n = ::poll(fds, stop_fd_ >= 0 ? 2 : 1, -1);
      if (n < 0) {
        if (errno == EINTR) return false;  // a signal: let the caller look at its stop flag
        throw std::runtime_error(name_ + ": poll failed: " + std::strerror(errno));
      }
      if (stop_fd_ >= 0 && (fds[1].revents & POLLIN)) return false;
      if (fds[0].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) return true;  // read() tells which
    }
  }

  int fd_;
  int stop_fd_;
  PcmFormat format_;
  std::string name_;
  std::size_t frame_bytes_;
  std::vector<unsigned char> bytes_;  // sized once for the largest read
  std::size_t pending_ = 0;           // bytes of an incomplete frame at the front of bytes_
  std::size_t dropped_ = 0;
  std::int64_t frames_read_ = 0;
};

class AlsaSource final : public PcmSource {
 public:
  AlsaSource(const std::string& device, const PcmFormat& format, int stop_fd)
      : stop_fd_(stop_fd), format_(format), name_("ALSA device '" + device + "'") {
    auto fail = [&](const std::string& what, int err) {
      if (pcm_) snd_pcm_close(pcm_);
      pcm_ = nullptr;
      throw std::runtime_error("cannot open ALSA device '" + device + "': " + what + ": " + snd_strerror(err));
    };
    silence_alsa_library();
    int err = snd_pcm_open(&pcm_, device.c_str(), SND_PCM_STREAM_CAPTURE, 0);
    if (err < 0) {
      pcm_ = nullptr;
      throw std::runtime_error("cannot open ALSA device '" + device + "': " + snd_strerror(err));
    }
    snd_pcm_hw_params_t* hw = nullptr;
    snd_pcm_hw_params_alloca(&hw);
    if ((err = snd_pcm_hw_params_any(pcm_, hw)) < 0) fail("no capture configuration", err);
    if ((err = snd_pcm_hw_params_set_access(pcm_, hw, SND_PCM_ACCESS_RW_INTERLEAVED)) < 0) {
      fail("interleaved access not supported", err);
    }
    const snd_pcm_format_t alsa_format =
        format.format == SampleFormat::kS16Le ? SND_PCM_FORMAT_S16_LE : SND_PCM_FORMAT_FLOAT_LE;
    if ((err = snd_pcm_hw_params_set_format(pcm_, hw, alsa_format)) < 0) {
      fail(std::string("sample format ") + to_string(format.format) + " not supported", err);
    }
    if ((err = snd_pcm_hw_params_set_channels(pcm_, hw, static_cast<unsigned>(format.channels))) < 0) {
      fail(std::to_string(format.channels) + " channel(s) not supported", err);
    }
    unsigned rate = static_cast<unsigned>(format.rate);
    if ((err = snd_pcm_hw_params_set_rate_near(pcm_, hw, &rate, nullptr)) < 0) {
      fail("rate " + std::to_string(format.rate) + " Hz not supported", err);
    }
    format_.rate = static_cast<int>(rate);  // the device's nearest rate; the resampler adapts
    // Short periods keep the latency low (32 ms at 16 kHz); eight of them absorb scheduling hiccups.
    snd_pcm_uframes_t period = 512, buffer = 8 * 512;
    snd_pcm_hw_params_set_period_size_near(pcm_, hw, &period, nullptr);
    snd_pcm_hw_params_set_buffer_size_near(pcm_, hw, &buffer);
    if ((err = snd_pcm_hw_params(pcm_, hw)) < 0) fail("cannot apply the capture parameters", err);
    if ((err = snd_pcm_prepare(pcm_)) < 0) fail("cannot prepare capture", err);
    if ((err = snd_pcm_start(pcm_)) < 0) fail("cannot start capture", err);
  }
  ~AlsaSource() override {
    if (pcm_) snd_pcm_close(pcm_);
  }

  ReadStatus read(float* interleaved, std::size_t max_frames, std::size_t* frames) override {
    *frames = 0;
    const std::size_t frame_bytes = bytes_per_sample(format_.format) * static_cast<std::size_t>(format_.channels);
    if (bytes_.size() < max_frames * frame_bytes) bytes_.resize(max_frames * frame_bytes);
    for (;;) {
      if (stop_requested(stop_fd_)) return ReadStatus::kInterrupted;
      const int ready = snd_pcm_wait(pcm_, 100);  // wakes every 100 ms to look at the stop request
      if (ready == 0) continue;
      snd_pcm_sframes_t got = ready < 0 ? ready : snd_pcm_avail_update(pcm_);
      if (got > 0) {
        got = snd_pcm_readi(pcm_, bytes_.data(),
                            std::min<snd_pcm_uframes_t>(static_cast<snd_pcm_uframes_t>(got), max_frames));
      }
      if (got == -EINTR) return ReadStatus::kInterrupted;
      if (got == -EPIPE || got == -ESTRPIPE) {  // overrun (audio lost) or suspend: recover and go on
        ++overruns_;
        if (const int err = snd_pcm_recover(pcm_, static_cast<int>(got), 1); err < 0) {
          throw std::runtime_error(name_ + ": cannot recover from an overrun: " + snd_strerror(err));
        }
        snd_pcm_start(pcm_);
        continue;
      }
      if (got < 0) throw std::runtime_error(name_ + ": read failed: " + snd_strerror(static_cast<int>(got)));
      if (got == 0) continue;
      const std::size_t samples = static_cast<std::size_t>(got) * static_cast<std::size_t>(format_.channels);
      if (convert_samples(bytes_.data(), samples, format_.format, interleaved) >= 0) {
        throw std::runtime_error(name_ + ": non-finite sample (NaN or infinity) in captured audio");
      }
      *frames = static_cast<std::size_t>(got);
      return ReadStatus::kData;
    }
  }

  const PcmFormat& format() const override { return format_; }
  const std::string& name() const override { return name_; }
  std::int64_t overruns() const override { return overruns_; }

 private:
  snd_pcm_t* pcm_ = nullptr;
  int stop_fd_;
  PcmFormat format_;
  std::string name_;
  std::vector<unsigned char> bytes_;
  std::int64_t overruns_ = 0;
};

}  // namespace

bool parse_sample_format(const std::string& text, SampleFormat* out) {
  if (text == "s16le")
    *out = SampleFormat::kS16Le;
  else if (text == "f32le")
    *out = SampleFormat::kF32Le;
  else
    return false;
  return true;
}

const char* to_string(SampleFormat format) { return format == SampleFormat::kS16Le ? "s16le" : "f32le"; }

std::size_t bytes_per_sample(SampleFormat format) { return format == SampleFormat::kS16Le ? 2 : 4; }

void check_pcm_format(const PcmFormat& format) {
  if (format.rate < 1 || format.rate > 768000) {
    throw std::invalid_argument("sample rate " + std::to_string(format.rate) + " Hz is outside 1..768000");
  }
  if (format.channels < 1 || format.channels > 32) {
    throw std::invalid_argument(std::to_string(format.channels) + " channels is outside 1..32");
  }
}

std::int64_t convert_samples(const unsigned char* bytes, std::size_t samples, SampleFormat format, float* out) {
  if (format == SampleFormat::kS16Le) {
    for (std::size_t i = 0; i < samples; ++i) out[i] = s16le(bytes + 2 * i);
    return -1;
  }
  std::int64_t first_bad = -1;
  for (std::size_t i = 0; i < samples; ++i) {
    out[i] = f32le(bytes + 4 * i);
    if (first_bad < 0 && !std::isfinite(out[i])) first_bad = static_cast<std::int64_t>(i);
  }
  return first_bad;
}

std::unique_ptr<PcmSource> open_fd_source(int fd, const PcmFormat& format, const std::string& name, int stop_fd) {
  check_pcm_format(format);
  return std::make_unique<FdSource>(fd, format, name, stop_fd);
}

std::unique_ptr<PcmSource> open_alsa_source(const std::string& device, const PcmFormat& format, int stop_fd) {
  check_pcm_format(format);
  return std::make_unique<AlsaSource>(device, format, stop_fd);
}

}  // namespace micronet_ad::host
