// Host audio: decoding, mixing, resampling, and a corpus of broken files built at test time.
#include <soxr.h>
#include <sys/stat.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "host/audio/clip_features.h"
#include "host/audio/resampler.h"
#include "support/frontend.h"

namespace micronet_ad {
namespace {

using host::Audio;
using host::load_audio;

// ---- well-formed files ----------------------------------------------------------------------

TEST(AudioFile, SharedClipDecodesToExactInt16Scale) {
  const std::string path = test::clip_path("normal");
  const Audio audio = load_audio(path);
  EXPECT_EQ(audio.source_rate, 16000);
  EXPECT_EQ(audio.source_channels, 1);
  EXPECT_EQ(audio.source_frames, 160000);
  EXPECT_TRUE(audio.warnings.empty());
  EXPECT_NE(audio.format.find("16 bit"), std::string::npos) << audio.format;
  // Independent decode: the canonical 44-byte header, then little-endian int16.
  const auto bytes = host::read_file(path);
  ASSERT_EQ(bytes.size(), 44u + 2u * 160000u);
  ASSERT_EQ(audio.samples.size(), 160000u);
  for (std::size_t i = 0; i < audio.samples.size(); ++i) {
    const auto v = static_cast<std::int16_t>(bytes[44 + 2 * i] | (bytes[45 + 2 * i] << 8));
    ASSERT_EQ(audio.samples[i], v / 32768.0f) << "sample " << i;
  }
}

TEST(AudioFile, LosslessFormatsDecodeIdentically) {
  const auto clip = test::load_clip("normal");
  test::TempDir dir;
  const struct {
    const char* name;
    int format;
  } formats[] = {{"clip.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16},
                 {"clip24.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_24},
                 {"clipf.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT},
                 {"clip.aiff", SF_FORMAT_AIFF | SF_FORMAT_PCM_16}};
  for (const auto& f : formats) {
    const std::string path = dir.file(f.name);
    test::write_audio(path, clip, 16000, 1, f.format);
    const Audio audio = load_audio(path);
    EXPECT_EQ(audio.samples, clip) << f.name << " (" << audio.format << ")";
  }
  // Lossy Ogg Vorbis: decodes, right length, close in level.
  const std::string ogg = dir.file("clip.ogg");
  test::write_audio(ogg, clip, 16000, 1, SF_FORMAT_OGG | SF_FORMAT_VORBIS);
  const Audio audio = load_audio(ogg);
  EXPECT_EQ(audio.samples.size(), clip.size());
}

// 16-bit PCM is read as integers and scaled by the loader itself: every int16 value must give
// libsndfile's own float (x/32768), also through the channel mix and the resampler.
TEST(AudioFile, Pcm16GivesLibsndfilesFloatsForEveryValue) {
  std::vector<float> ramp;  // all 65,536 values, then a few extremes again
  for (int v = -32768; v <= 32767; ++v) ramp.push_back(static_cast<float>(v) / 32768.0f);
  for (float v : {-1.0f, 32767.0f / 32768.0f, 0.0f}) ramp.push_back(v);
  test::TempDir dir;
  for (int channels : {1, 2}) {
    for (int rate : {16000, 44100}) {
      SCOPED_TRACE(std::to_string(channels) + " channels, " + std::to_string(rate) + " Hz");
      std::vector<float> interleaved(ramp.size() * channels);
      for (std::size_t i = 0; i < ramp.size(); ++i) {
        for (int c = 0; c < channels; ++c) interleaved[i * channels + c] = ramp[(i + 7919 * c) % ramp.size()];
      }
      const std::string pcm = dir.file("pcm16.wav"), flt = dir.file("float.wav");
      test::write_audio(pcm, interleaved, rate, channels, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
      test::write_audio(flt, interleaved, rate, channels, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
      const Audio from_pcm = load_audio(pcm), from_float = load_audio(flt);
      ASSERT_EQ(from_pcm.source_frames, static_cast<std::int64_t>(ramp.size()));
      EXPECT_EQ(from_pcm.samples, from_float.samples);
      if (channels == 1 && rate == 16000) {
        EXPECT_EQ(from_pcm.samples, ramp);
      }
    }
  }
}

// A reused Audio gives what a fresh decode gives, keeps its buffer when the next clip fits, and
// carries no state (warnings, counts) from the previous clip.
TEST(AudioFile, ReusedAudioDecodesLikeAFreshOne) {
  test::TempDir dir;
  const auto clip = test::load_clip("normal");
  const std::string longer = dir.file("long.wav"), shorter = dir.file("short.wav"), cut = dir.file("cut.wav");
  test::write_audio(longer, clip, 16000, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  test::write_audio(shorter, std::vector<float>(clip.begin(), clip.begin() + 40000), 8000, 1,
                    SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  test::write_audio(cut, clip, 16000, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  std::filesystem::resize_file(cut, 44 + 2 * 1000);  // data chunk declares 160,000 frames
  host::AudioLoadOptions tolerant;
  tolerant.allow_truncated = true;
  Audio audio;
  load_audio(cut, tolerant, &audio);
  EXPECT_EQ(audio.samples.size(), 1000u);
  EXPECT_FALSE(audio.warnings.empty());
  load_audio(longer, {}, &audio);
  EXPECT_EQ(audio.samples, clip);
  EXPECT_TRUE(audio.warnings.empty());
  EXPECT_EQ(audio.source_frames, 160000);
  const float* buffer = audio.samples.data();
  load_audio(shorter, {}, &audio);
  const Audio fresh = load_audio(shorter);
  EXPECT_EQ(audio.samples, fresh.samples);
  EXPECT_EQ(audio.source_rate, 8000);
  EXPECT_EQ(audio.source_frames, 40000);
  EXPECT_EQ(audio.format, fresh.format);
  EXPECT_EQ(audio.samples.data(), buffer) << "a clip that fits must reuse the buffer";
}

TEST(AudioFile, KitSample8kHz8BitLoadsAndResamples) {
  const std::string path = host::shared_path("data/kit_random_id_00_000000.wav");
  const Audio audio = load_audio(path);
  EXPECT_EQ(audio.source_rate, 8000);
  EXPECT_EQ(audio.source_channels, 1);
  EXPECT_EQ(audio.source_frames, 3000);
  EXPECT_NE(audio.format.find("8 bit"), std::string::npos) << audio.format;
  EXPECT_EQ(audio.samples.size(), 6000u);
  float peak = 0.0f;
  for (float x : audio.samples) peak = std::max(peak, std::fabs(x));
  EXPECT_GT(peak, 0.0f);
  EXPECT_LT(peak, 0.1f) << "the kit's sample is near silence";
  FrontendConfig config;
  config.input = test::kAdMediumInput;
  for (Framing framing : {Framing::kCentered, Framing::kKit}) {
    config.framing = framing;
    EXPECT_EQ(host::compute_clip_features(audio.samples, config).windows.size(), 1u) << "zero-padded to one window";
  }
}

// ---- resampling -----------------------------------------------------------------------------

std::vector<float> soxr_convert(const std::vector<float>& x, double from, double to) {
  std::vector<float> out(static_cast<std::size_t>(std::ceil(x.size() * to / from)) + 16);
  std::size_t done = 0;
  const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
  const soxr_quality_spec_t quality = soxr_quality_spec(SOXR_VHQ, 0);
  const soxr_error_t error =
      soxr_oneshot(from, to, 1, x.data(), x.size(), nullptr, out.data(), out.size(), &done, &io, &quality, nullptr);
  if (error != nullptr) throw std::runtime_error(error);
  out.resize(done);
  return out;
}

// Upper edge (Hz) of mel band m: written out from docs/frontend.md's Slaney formulas.
double band_upper_hz(int m) {
  const double top = 15.0 + std::log(8.0) / (std::log(6.4) / 27.0);
  const double mel = top * (m + 2) / 65.0;
  return mel < 15.0 ? mel * 200.0 / 3.0 : 1000.0 * std::exp((mel - 15.0) * std::log(6.4) / 27.0);
}

struct Comparison {
  double mean_abs_db = 0.0;                         // over all frames and the compared bands
  double max_patch = 0.0;                           // over the compared patch rows
  double equal_bytes = 0.0;                         // fraction of equal int8 inputs in the compared rows
  double top_band_db_a = 0.0, top_band_db_b = 0.0;  // mean dB of band 63 (7.6–8 kHz)
};

Comparison compare_below(const std::vector<float>& a, const std::vector<float>& b, double max_hz) {
  FrontendConfig config;
  config.input = test::kAdMediumInput;
  const auto fa = host::compute_clip_features(a, config), fb = host::compute_clip_features(b, config);
  EXPECT_EQ(fa.logmel.size(), fb.logmel.size());
  EXPECT_EQ(fa.windows.size(), fb.windows.size());
  Comparison c;
  int bands = 0;
  while (bands < kMelBands && band_upper_hz(bands) <= max_hz) ++bands;
  const std::size_t frames = std::min(fa.logmel.size(), fb.logmel.size());
  for (std::size_t f = 0; f < frames; ++f) {
    for (int m = 0; m < bands; ++m) c.mean_abs_db += std::fabs(double(fa.logmel[f][m]) - fb.logmel[f][m]);
  }
  c.mean_abs_db /= double(frames * bands);
  for (std::size_t f = 0; f < frames; ++f) {
    c.top_band_db_a += fa.logmel[f][kMelBands - 1] / double(frames);
    c.top_band_db_b += fb.logmel[f][kMelBands - 1] / double(frames);
  }
  const int rows = bands / 2;  // patch row r averages bands 2r and 2r+1
  int equal = 0;
  const std::size_t windows = std::min(fa.windows.size(), fb.windows.size());
  for (std::size_t k = 0; k < windows; ++k) {
    for (int i = 0; i < rows * kPatchSide; ++i) {
      c.max_patch = std::max(c.max_patch, std::fabs(double(fa.windows[k].patch[i]) - fb.windows[k].patch[i]));
      equal += fa.windows[k].input[i] == fb.windows[k].input[i];
    }
  }
  c.equal_bytes = double(equal) / double(windows * rows * kPatchSide);
  std::printf(
      "bands 0..%d (≤ %.0f Hz): mean |Δ log-mel| = %.4f dB, max |Δ patch| = %.4f dB, equal int8 = %.1f%%; band 63: "
      "%.1f vs %.1f dB\n",
      bands - 1, max_hz, c.mean_abs_db, c.max_patch, 100.0 * c.equal_bytes, c.top_band_db_a, c.top_band_db_b);
  return c;
}

TEST(Resampling, Stereo44k1FloatWavMatchesOriginal) {
  const auto clip = test::load_clip("normal");
  const auto other = test::load_clip("anomaly");
  const auto up = soxr_convert(clip, 16000, 44100), diff = soxr_convert(other, 16000, 44100);
  ASSERT_EQ(up.size(), 441000u);
  // L = x + d, R = x − d: the channel average is x, so d must vanish.
  std::vector<float> stereo(2 * up.size());
  for (std::size_t i = 0; i < up.size(); ++i) {
    stereo[2 * i] = up[i] + 0.5f * diff[i];
    stereo[2 * i + 1] = up[i] - 0.5f * diff[i];
  }
  test::TempDir dir;
  const std::string path = dir.file("stereo_44k1.wav");
  test::write_audio(path, stereo, 44100, 2, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  const Audio audio = load_audio(path);
  EXPECT_EQ(audio.source_rate, 44100);
  EXPECT_EQ(audio.source_channels, 2);
  ASSERT_EQ(audio.samples.size(), clip.size());
  // Up and down again with soxr's HQ/VHQ filters: the pass band reaches ~7.3 kHz (0.91 of the
  // 8 kHz Nyquist), so every band whose upper edge is ≤ 7 kHz must be nearly unchanged.
  // Measured: mean 0.0004 dB, max 0.04 dB (a fifth of one int8 step, 0.19), 99.9% equal bytes.
  const Comparison c = compare_below(audio.samples, clip, 7000.0);
  EXPECT_LT(c.mean_abs_db, 0.005);
  EXPECT_LT(c.max_patch, 0.1);
  EXPECT_GT(c.equal_bytes, 0.99);
}

TEST(Resampling, EightKilohertzCopyMatchesOriginalBelow3p5kHz) {
  const auto clip = test::load_clip("anomaly");
  const auto down = soxr_convert(clip, 16000, 8000);
  ASSERT_EQ(down.size(), 80000u);
  test::TempDir dir;
  const std::string path = dir.file("clip_8k.wav");
  test::write_audio(path, down, 8000, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  const Audio audio = load_audio(path);
  EXPECT_EQ(audio.source_rate, 8000);
  ASSERT_EQ(audio.samples.size(), clip.size());
  // 8 kHz keeps 0..4 kHz; soxr's transition band starts ~3.65 kHz, so compare bands ≤ 3.5 kHz.
  // (Above 4 kHz the copy is empty: its bands drop to the noise floor of the 16-bit re-quantization.)
  // Measured: mean 0.0034 dB, max 0.16 dB (less than one int8 step), 98.8% equal bytes.
  const Comparison c = compare_below(audio.samples, clip, 3500.0);
  EXPECT_LT(c.mean_abs_db, 0.02);
  EXPECT_LT(c.max_patch, 0.25);
  EXPECT_GT(c.equal_bytes, 0.97);
  // And the top band really is gone (a test that could not tell 8 kHz from 16 kHz is useless).
  EXPECT_LT(c.top_band_db_a, c.top_band_db_b - 30.0);
}

TEST(Resampling, StreamResamplerChunkingAndPassthrough) {
  const auto x = test::noise(20000, 0.5f);
  // 16 kHz: bit-exact passthrough, stereo averaged.
  std::vector<float> stereo(2 * x.size());
  for (std::size_t i = 0; i < x.size(); ++i) stereo[2 * i] = stereo[2 * i + 1] = x[i];
  host::StreamResampler pass(16000, 2);
  EXPECT_TRUE(pass.passthrough());
  std::vector<float> out;
  pass.push(stereo.data(), x.size(), &out);
  pass.finish(&out);
  EXPECT_EQ(out, x);
  // 22.05 kHz: chunked pushes give the same stream as one push.
  std::vector<float> whole, chunked;
  host::StreamResampler one(22050, 1), many(22050, 1);
  one.push(x.data(), x.size(), &whole);
  one.finish(&whole);
  for (std::size_t i = 0; i < x.size(); i += 777)
    many.push(x.data() + i, std::min<std::size_t>(777, x.size() - i), &chunked);
  many.finish(&chunked);
  ASSERT_EQ(whole.size(), chunked.size());
  EXPECT_NEAR(double(whole.size()), x.size() * 16000.0 / 22050.0, 1.0);
  for (std::size_t i = 0; i < whole.size(); ++i) ASSERT_NEAR(whole[i], chunked[i], 1e-6) << i;
  EXPECT_THROW(host::StreamResampler(0.0, 1), std::invalid_argument);
  EXPECT_THROW(host::StreamResampler(16000, 0), std::invalid_argument);
}

// ---- broken files ---------------------------------------------------------------------------

void put32(std::vector<std::uint8_t>& b, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void put16(std::vector<std::uint8_t>& b, std::uint16_t v) {
  for (int i = 0; i < 2; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
// A RIFF/WAVE file: fmt chunk with `format_tag` and `channels`, a data chunk declaring
// `declared_bytes`, followed by `actual_bytes` bytes of samples.
std::vector<std::uint8_t> wav_bytes(std::uint16_t channels, std::uint32_t declared_bytes, std::uint32_t actual_bytes,
                                    std::uint16_t format_tag = 1, std::uint32_t rate = 16000) {
  std::vector<std::uint8_t> b{'R', 'I', 'F', 'F'};
  put32(b, 36 + declared_bytes);
  for (char c : std::string("WAVEfmt ")) b.push_back(static_cast<std::uint8_t>(c));
  put32(b, 16);
  put16(b, format_tag);
  put16(b, channels);
  put32(b, rate);
  put32(b, rate * 2u * channels);
  put16(b, static_cast<std::uint16_t>(2 * channels));
  put16(b, 16);
  for (char c : std::string("data")) b.push_back(static_cast<std::uint8_t>(c));
  put32(b, declared_bytes);
  for (std::uint32_t i = 0; i < actual_bytes; ++i) b.push_back(static_cast<std::uint8_t>(i * 37));
  return b;
}

// std::ofstream rather than host::write_file, which hands fwrite a null pointer for 0 bytes.
void write_bytes(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error(path + ": cannot write");
}

struct BadFile {
  const char* name;
  std::vector<std::uint8_t> bytes;
  const char* expected;  // part of the message
};

TEST(AudioFile, BrokenFilesThrowNamingTheFile) {
  test::TempDir dir;
  const std::string text = "file,score\nthis is not audio at all\n";
  const BadFile corpus[] = {
      {"zero_bytes.wav", {}, "empty"},
      {"header_only.wav", wav_bytes(1, 0, 0), "no audio frames"},
      {"truncated.wav", wav_bytes(1, 32000, 1000), "truncated"},
      {"zero_channels.wav", wav_bytes(0, 100, 100), "channel"},
      {"billion_frames.wav", wav_bytes(1, 2000000000u, 200), "truncated"},
      {"text.wav", std::vector<std::uint8_t>(text.begin(), text.end()), "cannot decode"},
      {"unknown_codec.wav", wav_bytes(1, 200, 200, 0x7777), "cannot decode"},
      // A header claiming 1 Hz makes 320 KB into 44 hours, which resampling would turn into 10 GB.
      {"one_hertz.wav", wav_bytes(1, 320000, 320000, 1, 1), "1 Hz is below the 1000 Hz minimum"},
      {"zero_hertz.wav", wav_bytes(1, 3200, 3200, 1, 0), "sample rate of 0 Hz"},
      {"twenty_megahertz.wav", wav_bytes(1, 3200, 3200, 1, 20000000), "unsupported sample rate 20000000 Hz"},
  };
  for (const BadFile& bad : corpus) {
    const std::string path = dir.file(bad.name);
    write_bytes(path, bad.bytes);
    try {
      load_audio(path);
      ADD_FAILURE() << bad.name << ": no exception";
    } catch (const std::runtime_error& e) {
      const std::string message = e.what();
      std::printf("%s\n", message.c_str());
      EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << message;
      EXPECT_NE(message.find(bad.expected), std::string::npos) << message;
    }
  }
  for (const std::string& path : {dir.path(), dir.file("missing.wav")}) {
    try {
      load_audio(path);
      ADD_FAILURE() << path << ": no exception";
    } catch (const std::runtime_error& e) {
      std::printf("%s\n", e.what());
      EXPECT_EQ(std::string(e.what()).rfind(path + ": ", 0), 0u) << e.what();
    }
  }
}

TEST(AudioFile, TruncatedFileCanBeAcceptedWithAWarning) {
  test::TempDir dir;
  const std::string path = dir.file("truncated.wav");
  const auto bytes = wav_bytes(1, 32000, 1000);
  write_bytes(path, bytes);
  host::AudioLoadOptions options;
  options.allow_truncated = true;
  const Audio audio = load_audio(path, options);
  EXPECT_EQ(audio.source_frames, 500);
  EXPECT_EQ(audio.samples.size(), 500u);
  ASSERT_EQ(audio.warnings.size(), 1u);
  EXPECT_EQ(audio.warnings[0].rfind(path + ": ", 0), 0u) << audio.warnings[0];
  EXPECT_NE(audio.warnings[0].find("32000"), std::string::npos) << audio.warnings[0];
}

TEST(AudioFile, LongerThanTheLimitIsRefusedFromTheHeader) {
  test::TempDir dir;
  const std::string path = dir.file("long.wav");
  write_bytes(path, wav_bytes(1, 64000, 64000));  // 2 s at 16 kHz
  host::AudioLoadOptions options;
  options.max_seconds = 1.5;
  try {
    load_audio(path, options);
    ADD_FAILURE() << "no exception";
  } catch (const host::AudioError& e) {
    EXPECT_EQ(e.kind(), host::AudioError::Kind::kTooLong);
    EXPECT_EQ(std::string(e.what()).rfind(path + ": longer than the limit", 0), 0u) << e.what();
  }
  options.max_seconds = 2.0;
  EXPECT_EQ(load_audio(path, options).source_frames, 32000);
}

// A cut OGG does not say how long it is (libsndfile reports SF_COUNT_MAX frames): the message says
// what was read, not "of the 9223372036854775807 frames".
TEST(AudioFile, TruncatedOggSaysWhatWasRead) {
  test::TempDir dir;
  const std::string path = dir.file("cut.ogg");
  std::vector<float> x(16000 * 10);  // noise: many Ogg pages, so a cut leaves whole ones to decode
  std::uint32_t state = 1;
  for (float& v : x) v = static_cast<float>((state = state * 1664525u + 1013904223u) >> 8) / 16777216.0f - 0.5f;
  test::write_audio(path, x, 16000, 1, SF_FORMAT_OGG | SF_FORMAT_VORBIS);
  std::filesystem::resize_file(path, std::filesystem::file_size(path) * 2 / 3);
  try {
    load_audio(path);
    ADD_FAILURE() << "no exception";
  } catch (const host::AudioError& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << message;
    EXPECT_EQ(message.find("9223372036854775807"), std::string::npos) << message;
    EXPECT_NE(message.find("truncated"), std::string::npos) << message;
  }
}

TEST(AudioFile, NonFiniteSamplesAreRejected) {
  test::TempDir dir;
  const std::string path = dir.file("nan.wav");
  std::vector<float> x(1000, 0.1f);
  x[700] = NAN;
  test::write_audio(path, x, 16000, 1, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  try {
    load_audio(path);
    ADD_FAILURE() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()).rfind(path + ": ", 0), 0u) << e.what();
    EXPECT_NE(std::string(e.what()).find("frame 700"), std::string::npos) << e.what();
  }
  // An infinity in a later read chunk (16,384 frames each), stereo: the frame, not the value index.
  std::vector<float> stereo(2 * 40000, 0.1f);
  stereo[2 * 20007 + 1] = -INFINITY;
  test::write_audio(path, stereo, 16000, 2, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  try {
    load_audio(path);
    ADD_FAILURE() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("frame 20007"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace micronet_ad
