// Helpers for the tests of the front end and of what reads audio (core/frontend, host/audio,
// host/detect, cli): shared golden files, an independent double-precision DFT, temporary
// directories and WAV writing through libsndfile.
#pragma once

#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "host/audio/audio_file.h"
#include "host/io/file.h"
#include "host/io/shared_data.h"
#include "micronet_ad/frontend.h"

namespace micronet_ad::test {

// Input quantization of docs/models.md (ad_large shares ad_small's).
inline constexpr InputQuantization kAdSmallInput{0.191926181f, 11};
inline constexpr InputQuantization kAdMediumInput{0.192436635f, 11};

inline const char* const kClips[] = {"anomaly", "normal"};

// The front-end modes the golden clip data covers (golden/frontend/clip/README).
struct Mode {
  const char* name;
  Framing framing;
  Resize resize;
};
inline constexpr Mode kModes[] = {{"centered-average", Framing::kCentered, Resize::kAverage},
                                  {"kit-average", Framing::kKit, Resize::kAverage},
                                  {"kit-decimate", Framing::kKit, Resize::kDecimate}};

// A missing shared file throws, which fails the test: it never skips.
template <typename T>
std::vector<T> shared_raw(const std::string& relative) {
  const auto bytes = host::read_file(host::shared_path(relative));
  if (bytes.size() % sizeof(T) != 0) throw std::runtime_error(relative + ": size is not a multiple of the element");
  std::vector<T> values(bytes.size() / sizeof(T));
  std::memcpy(values.data(), bytes.data(), bytes.size());
  return values;
}

inline std::string clip_path(const std::string& clip) {
  return host::shared_path("data/dcase2020_task2/slider/test/" + clip + "_id_00_00000000.wav");
}
inline std::string golden_clip_dir(const std::string& clip) {
  return "golden/frontend/clip_slider_" + clip + "_id_00/";
}
inline std::vector<float> load_clip(const std::string& clip) { return host::load_audio(clip_path(clip)).samples; }

// Direct O(N²) DFT in double with an exact twiddle table: an FFT-free reference for KissFFT.
class DoubleDft final : public RealFft {
 public:
  DoubleDft() {
    const double pi = std::acos(-1.0);
    for (int n = 0; n < kFrameLength; ++n) {
      cos_[n] = std::cos(2.0 * pi * n / kFrameLength);
      sin_[n] = std::sin(2.0 * pi * n / kFrameLength);
    }
  }
  void forward(const float* in, float* out) override {
    for (int k = 0; k < kSpectrumBins; ++k) {
      double re = 0.0, im = 0.0;
      for (int n = 0; n < kFrameLength; ++n) {
        const int phase = (k * n) % kFrameLength;
        re += in[n] * cos_[phase];
        im -= in[n] * sin_[phase];
      }
      out[2 * k] = static_cast<float>(re);
      out[2 * k + 1] = static_cast<float>(im);
    }
  }

 private:
  double cos_[kFrameLength];
  double sin_[kFrameLength];
};

// Deterministic pseudo-random samples in [-amplitude, amplitude).
inline std::vector<float> noise(std::size_t count, float amplitude, std::uint32_t seed = 12345) {
  std::vector<float> out(count);
  for (auto& x : out) {
    seed = seed * 1664525u + 1013904223u;
    x = amplitude * (static_cast<float>(seed >> 8) / 8388608.0f - 1.0f);
  }
  return out;
}

// A fresh directory under $TMPDIR, removed with its files at the end of the test.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/micronet_ad_frontend_XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (::mkdtemp(buffer.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = buffer.data();
  }
  ~TempDir() { std::system(("rm -rf '" + path_ + "'").c_str()); }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Writes interleaved float samples with libsndfile in `format` (e.g. SF_FORMAT_WAV|SF_FORMAT_FLOAT).
inline void write_audio(const std::string& path, const std::vector<float>& interleaved, int rate, int channels,
                        int format) {
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = channels;
  info.format = format;
  SNDFILE* file = sf_open(path.c_str(), SFM_WRITE, &info);
  if (file == nullptr) throw std::runtime_error(path + ": " + sf_strerror(nullptr));
  const sf_count_t frames = static_cast<sf_count_t>(interleaved.size() / channels);
  sf_count_t written = 0;
  const int encoding = format & SF_FORMAT_SUBMASK;
  if (encoding == SF_FORMAT_PCM_16 || encoding == SF_FORMAT_PCM_24) {
    // libsndfile scales floats by 32767 when writing integers but divides by 32768 when reading:
    // write integers ourselves so that x/32768 round-trips exactly.
    std::vector<int> values(interleaved.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
      const double v = std::round(std::min(std::max(interleaved[i] * 32768.0, -32768.0), 32767.0));
      values[i] = static_cast<int>(v) * 65536;  // int API: full 32-bit scale
    }
    written = sf_writef_int(file, values.data(), frames);
  } else {
    written = sf_writef_float(file, interleaved.data(), frames);
  }
  sf_close(file);
  if (written != frames) throw std::runtime_error(path + ": short write");
}

}  // namespace micronet_ad::test
