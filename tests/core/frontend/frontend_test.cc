// The core front end: filterbank, log-mel, quantizer, framing, windows, streaming behaviour.
#include <cfloat>
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "host/audio/clip_features.h"
#include "host/audio/fftw_real_fft.h"
#include "host/audio/host_real_fft.h"
#include "host/audio/kiss_real_fft.h"
#include "support/frontend.h"

namespace micronet_ad {
namespace {

using host::ClipFeatures;
using host::compute_clip_features;

FrontendConfig config_for(Framing framing, Resize resize, InputQuantization input = test::kAdMediumInput) {
  FrontendConfig config;
  config.framing = framing;
  config.resize = resize;
  config.input = input;
  return config;
}

// ---- filterbank ----------------------------------------------------------------------------

// Slaney mel written out independently of the library.
double slaney_mel(double hz) {
  return hz < 1000.0 ? 3.0 * hz / 200.0 : 15.0 + 27.0 * std::log(hz / 1000.0) / std::log(6.4);
}
double slaney_hz(double mel) { return mel < 15.0 ? 200.0 * mel / 3.0 : 1000.0 * std::pow(6.4, (mel - 15.0) / 27.0); }

TEST(MelFilterbank, WeightsFollowSpecDefinition) {
  const MelFilterbank bank;
  const double top = slaney_mel(8000.0);
  double max_relative = 0.0;
  for (int m = 0; m < kMelBands; ++m) {
    const double l = top * m / 65.0, c = top * (m + 1) / 65.0, r = top * (m + 2) / 65.0;
    const double norm = 2.0 / (slaney_hz(r) - slaney_hz(l));
    int nonzero = 0;
    for (int k = 0; k < kPowerBins; ++k) {
      const double mel = slaney_mel(k * 15.625);
      const double expected = std::max(0.0, std::min((mel - l) / (c - l), (r - mel) / (r - c))) * norm;
      const double got = bank.weight(m, k);
      if (expected == 0.0) {
        ASSERT_EQ(got, 0.0) << "band " << m << " bin " << k;
      } else {
        ++nonzero;
        max_relative = std::max(max_relative, std::fabs(got - expected) / expected);
      }
    }
    EXPECT_GT(nonzero, 0) << "band " << m << " has no FFT bin";
  }
  EXPECT_LT(max_relative, 1e-6);  // stored as float
  // The Nyquist bin (512, 8000 Hz) lies on the top filter's right corner: leaving it out (docs/frontend.md:
  // bins 0..511) or keeping it (librosa: 0..512) gives the same bands.
  EXPECT_LT(MelFilterbank::reference_weight(kMelBands - 1, 512), 1e-15);
}

// apply() (sparse rows, partial sums) against the dense definition summed bin by bin.
TEST(MelFilterbank, ApplyEqualsDenseWeightedSum) {
  const MelFilterbank bank;
  const auto values = test::noise(kPowerBins, 1000.0f, 777);
  std::vector<double> power(kPowerBins), energy(kMelBands);
  for (int k = 0; k < kPowerBins; ++k) power[k] = double(values[k]) * values[k];
  bank.apply(power.data(), energy.data());
  for (int m = 0; m < kMelBands; ++m) {
    double dense = FLT_MIN;
    for (int k = 0; k < kPowerBins; ++k) dense += bank.weight(m, k) * power[k];
    EXPECT_NEAR(energy[m], dense, 1e-12 * dense) << "band " << m;
  }
}

TEST(MelFilterbank, SilenceGivesFltMinFloor) {
  const MelFilterbank bank;
  std::vector<double> power(kPowerBins, 0.0), energy(kMelBands);
  bank.apply(power.data(), energy.data());
  for (double e : energy) EXPECT_EQ(e, static_cast<double>(FLT_MIN));
}

// ---- log-mel -------------------------------------------------------------------------------

TEST(LogMel, KitFrameGoldenWithin0p1Db) {
  const auto frame_i16 = test::shared_raw<std::int16_t>("golden/frontend/kit_frame_1024.i16");
  const auto golden = test::shared_raw<float>("golden/frontend/kit_frame_logmel64.f32");
  ASSERT_EQ(frame_i16.size(), static_cast<std::size_t>(kFrameLength));
  ASSERT_EQ(golden.size(), static_cast<std::size_t>(kMelBands));
  std::vector<float> frame(kFrameLength);
  for (int i = 0; i < kFrameLength; ++i) frame[i] = frame_i16[i] / 32768.0f;  // the kit's scaling
  host::KissRealFft fft;
  LogMel log_mel(&fft);
  float db[kMelBands];
  log_mel.compute(frame.data(), db);
  double max_diff = 0.0;
  for (int m = 0; m < kMelBands; ++m) {
    EXPECT_NEAR(db[m], golden[m], 0.1) << "band " << m;
    max_diff = std::max(max_diff, std::fabs(double(db[m]) - golden[m]));
  }
  // Measured 0.035 dB: the kit's expected values follow triangles linear in Hz (librosa), docs/frontend.md's
  // filters are linear in mel; the clip golden data match to ~1e-4 dB.
  RecordProperty("max_abs_diff_db", std::to_string(max_diff));
  std::printf("kit frame: max |diff| = %.6f dB\n", max_diff);
}

// Largest log-mel difference (dB) between `fft` and a float64 DFT on four frames of a real clip.
double max_diff_vs_double_dft(RealFft* fft) {
  const auto clip = test::load_clip("anomaly");
  test::DoubleDft dft;
  LogMel fast(fft), reference(&dft);
  double max_diff = 0.0;
  for (int start : {0, 512 * 100, 512 * 200, 160000 - 1024}) {
    float a[kMelBands], b[kMelBands];
    fast.compute(clip.data() + start, a);
    reference.compute(clip.data() + start, b);
    for (int m = 0; m < kMelBands; ++m) max_diff = std::max(max_diff, std::fabs(double(a[m]) - b[m]));
  }
  return max_diff;
}

TEST(LogMel, KissFftAgreesWithDoubleDft) {
  host::KissRealFft kiss;
  const double max_diff = max_diff_vs_double_dft(&kiss);
  EXPECT_LT(max_diff, 5e-5);  // measured 7.6e-6 dB (1–2 float ulps)
  std::printf("KissFFT vs double DFT: max |diff| = %.3g dB\n", max_diff);
}

TEST(LogMel, FftwAgreesWithDoubleDft) {
  host::FftwRealFft fftw;
  const double max_diff = max_diff_vs_double_dft(&fftw);
  EXPECT_LT(max_diff, 5e-5);  // measured 7.6e-6 dB, as KissFFT
  std::printf("FFTW vs double DFT: max |diff| = %.3g dB\n", max_diff);
}

// FFTW runs on the caller's buffers only when they have the plan's alignment, else on its own:
// both paths, and repeated calls, must give the same bits.
TEST(FftwRealFft, AlignedAndUnalignedBuffersGiveTheSameBits) {
  const auto x = test::noise(kFrameLength + 1, 0.5f, 99);
  host::FftwRealFft fft;
  alignas(64) float in[kFrameLength];
  alignas(64) float out[2 * kSpectrumBins];
  std::memcpy(in, x.data(), sizeof in);
  fft.forward(in, out);
  std::vector<float> shifted_in(kFrameLength + 1), shifted_out(2 * kSpectrumBins + 1);
  std::memcpy(shifted_in.data() + 1, x.data(), sizeof in);
  fft.forward(shifted_in.data() + 1, shifted_out.data() + 1);
  EXPECT_EQ(std::memcmp(out, shifted_out.data() + 1, sizeof out), 0);
  float again[2 * kSpectrumBins];
  fft.forward(in, again);
  EXPECT_EQ(std::memcmp(out, again, sizeof out), 0);
  EXPECT_EQ(std::memcmp(in, x.data(), sizeof in), 0) << "the input must be preserved";
  // And it is the DFT: every bin within 1e-5 of the largest magnitude of the double DFT.
  test::DoubleDft dft;
  float want[2 * kSpectrumBins];
  dft.forward(in, want);
  double largest = 0.0;
  for (float v : want) largest = std::max(largest, double(std::fabs(v)));
  for (int i = 0; i < 2 * kSpectrumBins; ++i) EXPECT_NEAR(out[i], want[i], 1e-5 * largest) << i;
}

// The AVX2 split step (used when the CPU has AVX2) and the SSE2 one give the same bits.
TEST(FftwRealFft, Avx2AndSse2SplitsGiveTheSameBits) {
  const auto clip = test::load_clip("anomaly");
  host::FftwRealFft fast, baseline(false);
  alignas(64) float a[2 * kSpectrumBins], b[2 * kSpectrumBins];
  for (int start = 0; start + kFrameLength <= 160000; start += 512 * 37) {
    fast.forward(clip.data() + start, a);
    baseline.forward(clip.data() + start, b);
    ASSERT_EQ(std::memcmp(a, b, sizeof a), 0) << "frame at " << start;
  }
}

// ---- quantizer and counts ------------------------------------------------------------------

TEST(QuantizeInput, RoundsHalfAwayFromZeroAndClamps) {
  const InputQuantization unit{1.0f, 0};
  EXPECT_EQ(quantize_input(0.5, unit), 1);
  EXPECT_EQ(quantize_input(-0.5, unit), -1);
  EXPECT_EQ(quantize_input(1.4999, unit), 1);
  EXPECT_EQ(quantize_input(2.5, unit), 3);
  EXPECT_EQ(quantize_input(127.49, unit), 127);
  EXPECT_EQ(quantize_input(1e9, unit), 127);
  EXPECT_EQ(quantize_input(-128.4, unit), -128);
  EXPECT_EQ(quantize_input(-1e9, unit), -128);
  EXPECT_EQ(quantize_input(INFINITY, unit), 127);
  EXPECT_EQ(quantize_input(-INFINITY, unit), -128);
  EXPECT_EQ(quantize_input(NAN, unit), -128);
  // ad_medium: x = 0 → round(11) = 11; x = −30 dB + 30 = 0 too.
  EXPECT_EQ(quantize_input(0.0, test::kAdMediumInput), 11);
  EXPECT_EQ(quantize_input(-345.96, test::kAdMediumInput), -128);  // silence (FLT_MIN floor + 30)
  const InputQuantization offset{0.5f, -3};
  EXPECT_EQ(quantize_input(0.25, offset), -3);  // 0.25/0.5 − 3 = −2.5 → −3 (away from zero)
  EXPECT_EQ(quantize_input(-128.5, unit), -128);
  EXPECT_EQ(quantize_input(std::nextafter(-128.5, 0.0), unit), -128);
  EXPECT_EQ(quantize_input(127.5, unit), 127);
  EXPECT_EQ(quantize_input(std::nextafter(0.5, 0.0), unit), 0);
  EXPECT_EQ(quantize_input(std::nextafter(-0.5, 0.0), unit), 0);
  EXPECT_EQ(quantize_input(-2.5, unit), -3);
}

// The same as docs/frontend.md's formula written with std::round, on a dense sweep and on every half-step.
TEST(QuantizeInput, EqualsClampedStdRound) {
  auto spec = [](double x, InputQuantization p) {
    const double q = std::round(x / double(p.scale) + p.zero_point);
    return static_cast<int>(std::isnan(q) ? -128.0 : std::min(127.0, std::max(-128.0, q)));
  };
  for (const InputQuantization& p : {test::kAdSmallInput, test::kAdMediumInput, InputQuantization{1.0f, 0}}) {
    for (double x = -60.0; x <= 60.0; x += 1e-4) ASSERT_EQ(quantize_input(x, p), spec(x, p)) << x;
  }
  const InputQuantization unit{1.0f, 0};
  for (int h = -300; h <= 300; ++h) {
    for (double x : {h + 0.5, std::nextafter(h + 0.5, -1e9), std::nextafter(h + 0.5, 1e9)}) {
      ASSERT_EQ(quantize_input(x, unit), spec(x, unit)) << x;
    }
  }
}

TEST(FrontendCounts, FramesWindowsAndMinimumLength) {
  EXPECT_EQ(frame_count(Framing::kCentered, 160000), 313);
  EXPECT_EQ(frame_count(Framing::kKit, 160000), 311);
  EXPECT_EQ(window_count(313), 13);
  EXPECT_EQ(window_count(311), 13);
  EXPECT_EQ(window_count(63), 0);
  EXPECT_EQ(window_count(64), 1);
  EXPECT_EQ(window_count(83), 1);
  EXPECT_EQ(window_count(84), 2);
  EXPECT_EQ(frame_count(Framing::kKit, 1023), 0);
  EXPECT_EQ(frame_count(Framing::kCentered, 0), 0);
  EXPECT_EQ(min_clip_samples(Framing::kCentered), 32256);
  EXPECT_EQ(min_clip_samples(Framing::kKit), 33280);
  for (Framing f : {Framing::kCentered, Framing::kKit}) {
    EXPECT_EQ(frame_count(f, min_clip_samples(f)), 64);
    EXPECT_EQ(frame_count(f, min_clip_samples(f) - 1), 63);
  }
}

TEST(FrontendConfig, ParseAndValidate) {
  Framing framing;
  Resize resize;
  EXPECT_TRUE(parse_framing("kit", &framing));
  EXPECT_EQ(framing, Framing::kKit);
  EXPECT_TRUE(parse_framing("centered", &framing));
  EXPECT_EQ(framing, Framing::kCentered);
  EXPECT_FALSE(parse_framing("center", &framing));
  EXPECT_FALSE(parse_framing(nullptr, &framing));
  EXPECT_TRUE(parse_resize("decimate", &resize));
  EXPECT_EQ(resize, Resize::kDecimate);
  EXPECT_FALSE(parse_resize("bilinear", &resize));
  EXPECT_STREQ(to_string(Framing::kKit), "kit");
  EXPECT_STREQ(to_string(Resize::kAverage), "average");

  host::KissRealFft fft;
  auto fe = std::make_unique<Frontend>();
  EXPECT_TRUE(fe->init(config_for(Framing::kKit, Resize::kAverage), &fft).ok());
  EXPECT_FALSE(fe->init(config_for(Framing::kKit, Resize::kAverage), nullptr).ok());
  EXPECT_FALSE(fe->init(config_for(Framing::kKit, Resize::kAverage, {0.0f, 0}), &fft).ok());
  EXPECT_FALSE(fe->init(config_for(Framing::kKit, Resize::kAverage, {NAN, 0}), &fft).ok());
  const Status bad_zp = fe->init(config_for(Framing::kKit, Resize::kAverage, {0.2f, 200}), &fft);
  EXPECT_FALSE(bad_zp.ok());
  EXPECT_NE(std::string(bad_zp.message()).find("zero point"), std::string::npos) << bad_zp.message();
  float x = 0.0f;
  EXPECT_EQ(fe->push(&x, 1), 0u) << "a failed init leaves the front end unusable";
  EXPECT_FALSE(fe->finish().ok());
}

// ---- framing and windows against an explicit, non-streaming reference ------------------------

// Frames cut from an explicitly padded copy of the signal, then windows built by the formulas.
struct Reference {
  std::vector<std::array<float, kMelBands>> frames;
  std::vector<std::vector<float>> patches;
  std::vector<std::vector<std::int8_t>> inputs;
};

Reference reference_features(std::vector<float> x, const FrontendConfig& config) {
  if (static_cast<std::int64_t>(x.size()) < min_clip_samples(config.framing)) {
    x.resize(static_cast<std::size_t>(min_clip_samples(config.framing)), 0.0f);
  }
  std::vector<float> padded;
  const long n = static_cast<long>(x.size());
  if (config.framing == Framing::kCentered) {
    for (long i = 512; i >= 1; --i) padded.push_back(x[i]);  // x[-i] = x[i]
    padded.insert(padded.end(), x.begin(), x.end());
    for (long i = 1; i <= 512; ++i) padded.push_back(x[n - 1 - i]);  // x[N-1+i] = x[N-1-i]
  } else {
    padded = x;
  }
  host::HostRealFft fft;  // the FFT compute_clip_features uses: this compares framing bit for bit
  LogMel log_mel(&fft);
  Reference ref;
  for (std::size_t start = 0; start + kFrameLength <= padded.size(); start += kHopLength) {
    ref.frames.emplace_back();
    log_mel.compute(padded.data() + start, ref.frames.back().data());
  }
  for (std::size_t first = 0; first + kWindowFrames <= ref.frames.size(); first += kWindowStride) {
    std::vector<float> patch(kPatchElements);
    std::vector<std::int8_t> input(kPatchElements);
    for (int m = 0; m < 32; ++m) {
      for (int t = 0; t < 32; ++t) {
        const auto& f0 = ref.frames[first + 2 * t];
        const auto& f1 = ref.frames[first + 2 * t + 1];
        const double db = config.resize == Resize::kAverage
                              ? (double(f0[2 * m]) + f0[2 * m + 1] + f1[2 * m] + f1[2 * m + 1]) / 4.0
                              : double(f0[2 * m]);
        patch[m * 32 + t] = static_cast<float>(db + 30.0);
        input[m * 32 + t] = quantize_input(db + 30.0, config.input);
      }
    }
    ref.patches.push_back(patch);
    ref.inputs.push_back(input);
  }
  return ref;
}

void expect_matches_reference(const std::vector<float>& x, const FrontendConfig& config, std::size_t chunk) {
  SCOPED_TRACE(std::string(to_string(config.framing)) + "-" + to_string(config.resize) +
               " samples=" + std::to_string(x.size()) + " chunk=" + std::to_string(chunk));
  const Reference ref = reference_features(x, config);
  const ClipFeatures got = compute_clip_features(x, config, chunk);
  ASSERT_EQ(got.logmel.size(), ref.frames.size());
  for (std::size_t f = 0; f < ref.frames.size(); ++f) {
    ASSERT_EQ(std::memcmp(got.logmel[f].data(), ref.frames[f].data(), sizeof(float) * kMelBands), 0) << "frame " << f;
  }
  ASSERT_EQ(got.windows.size(), ref.patches.size());
  for (std::size_t k = 0; k < ref.patches.size(); ++k) {
    EXPECT_EQ(got.windows[k].index, static_cast<std::int64_t>(k));
    EXPECT_EQ(got.windows[k].first_frame, static_cast<std::int64_t>(20 * k));
    EXPECT_EQ(std::memcmp(got.windows[k].patch, ref.patches[k].data(), sizeof(float) * kPatchElements), 0)
        << "window " << k;
    EXPECT_EQ(std::memcmp(got.windows[k].input, ref.inputs[k].data(), kPatchElements), 0) << "window " << k;
  }
}

TEST(FrontendFraming, MatchesExplicitPaddingAllModes) {
  // Lengths: not a multiple of the hop; exactly the minimum; one sample over a frame boundary.
  for (std::size_t n : {50001u, 32256u, 33280u, 42497u}) {
    const auto x = test::noise(n, 0.3f);
    for (Framing framing : {Framing::kCentered, Framing::kKit}) {
      for (Resize resize : {Resize::kAverage, Resize::kDecimate}) {
        expect_matches_reference(x, config_for(framing, resize), 1000);
      }
    }
  }
  // The framer copies whole runs once the centered prefix (first 513 samples) is built: chunks
  // that end inside the prefix, right at it, and one sample at a time.
  const auto x = test::noise(42497, 0.3f);
  for (std::size_t chunk : {1u, 100u, 513u, 514u}) {
    expect_matches_reference(x, config_for(Framing::kCentered, Resize::kAverage), chunk);
    expect_matches_reference(x, config_for(Framing::kKit, Resize::kDecimate), chunk);
  }
}

// ---- streaming ------------------------------------------------------------------------------

void expect_identical(const ClipFeatures& a, const ClipFeatures& b) {
  ASSERT_EQ(a.logmel.size(), b.logmel.size());
  ASSERT_EQ(a.windows.size(), b.windows.size());
  for (std::size_t f = 0; f < a.logmel.size(); ++f) {
    ASSERT_EQ(std::memcmp(a.logmel[f].data(), b.logmel[f].data(), sizeof(float) * kMelBands), 0) << "frame " << f;
  }
  for (std::size_t k = 0; k < a.windows.size(); ++k) {
    EXPECT_EQ(a.windows[k].index, b.windows[k].index);
    EXPECT_EQ(std::memcmp(a.windows[k].patch, b.windows[k].patch, sizeof(a.windows[k].patch)), 0) << "window " << k;
    EXPECT_EQ(std::memcmp(a.windows[k].input, b.windows[k].input, sizeof(a.windows[k].input)), 0) << "window " << k;
  }
}

TEST(FrontendStreaming, OddChunkSizesGiveByteIdenticalWindows) {
  const auto clip = test::load_clip("normal");
  for (const auto& config :
       {config_for(Framing::kCentered, Resize::kAverage), config_for(Framing::kKit, Resize::kDecimate)}) {
    const ClipFeatures whole = compute_clip_features(clip, config, 0);
    ASSERT_EQ(whole.windows.size(), 13u);
    for (std::size_t chunk : {1u, 7u, 333u, 512u, 1023u, 4097u, 65536u}) {
      SCOPED_TRACE("chunk " + std::to_string(chunk) + " framing " + to_string(config.framing));
      expect_identical(compute_clip_features(clip, config, chunk), whole);
    }
  }
}

TEST(FrontendStreaming, TenSecondsGiveThirteenWindowsBothFramings) {
  const auto clip = test::load_clip("anomaly");
  ASSERT_EQ(clip.size(), 160000u);
  for (Framing framing : {Framing::kCentered, Framing::kKit}) {
    const auto features = compute_clip_features(clip, config_for(framing, Resize::kAverage));
    EXPECT_EQ(features.windows.size(), 13u);
    EXPECT_EQ(features.logmel.size(), framing == Framing::kCentered ? 313u : 311u);
  }
}

TEST(FrontendStreaming, ShortClipIsZeroPaddedToOneWindowAtSampleLevel) {
  const auto x = test::noise(1000, 0.5f, 99);
  for (Framing framing : {Framing::kCentered, Framing::kKit}) {
    const auto config = config_for(framing, Resize::kAverage);
    const auto features = compute_clip_features(x, config);
    ASSERT_EQ(features.windows.size(), 1u);
    ASSERT_EQ(features.logmel.size(), 64u);
    // Same as padding the samples with zeros by hand.
    std::vector<float> padded = x;
    padded.resize(static_cast<std::size_t>(min_clip_samples(framing)), 0.0f);
    expect_identical(features, compute_clip_features(padded, config));
    // Frames over the padding are digital silence: the FLT_MIN floor, quantized to −128.
    const float floor_db = static_cast<float>(10.0 * std::log10(double(FLT_MIN)));
    for (float db : features.logmel[63]) EXPECT_EQ(db, floor_db);
    EXPECT_EQ(features.windows[0].input[31], -128);  // band 0, last column
    EXPECT_GT(features.windows[0].input[0], -128);   // band 0, first column: the noise
  }
}

TEST(FrontendStreaming, ClipOfOneSampleStillGivesOneWindow) {
  const std::vector<float> x{0.25f};
  for (Framing framing : {Framing::kCentered, Framing::kKit}) {
    EXPECT_EQ(compute_clip_features(x, config_for(framing, Resize::kDecimate)).windows.size(), 1u);
  }
}

TEST(FrontendStreaming, EmptyStreamIsAnErrorWithNoWindow) {
  host::KissRealFft fft;
  auto fe = std::make_unique<Frontend>();
  ASSERT_TRUE(fe->init(config_for(Framing::kCentered, Resize::kAverage), &fft).ok());
  const Status status = fe->finish();
  EXPECT_FALSE(status.ok());
  EXPECT_NE(std::string(status.message()).find("empty"), std::string::npos) << status.message();
  EXPECT_EQ(fe->windows_completed(), 0);
  Window w;
  EXPECT_FALSE(fe->pop_window(&w));
  float x = 0.1f;
  EXPECT_EQ(fe->push(&x, 1), 0u) << "push after finish consumes nothing";
  EXPECT_THROW(compute_clip_features(std::vector<float>{}, fe->config()), std::runtime_error);
  // reset() starts a new stream.
  fe->reset();
  EXPECT_EQ(fe->push(&x, 1), 1u);
  EXPECT_TRUE(fe->finish().ok());
  EXPECT_EQ(fe->windows_completed(), 1);
}

TEST(FrontendStreaming, BoundedQueueStopsPushUntilWindowsArePopped) {
  const auto clip = test::load_clip("normal");
  host::KissRealFft fft;
  auto fe = std::make_unique<Frontend>();
  ASSERT_TRUE(fe->init(config_for(Framing::kKit, Resize::kAverage), &fft).ok());
  const std::size_t first = fe->push(clip.data(), clip.size());
  EXPECT_LT(first, clip.size());
  EXPECT_EQ(fe->pending_windows(), Frontend::kMaxPendingWindows);
  EXPECT_EQ(fe->push(clip.data() + first, clip.size() - first), 0u) << "queue full: nothing consumed";
  // finish() refuses while windows wait, and can be retried after popping.
  EXPECT_FALSE(fe->finish().ok());
  std::vector<std::int64_t> indices;
  Window w;
  std::size_t done = first;
  while (fe->pop_window(&w)) indices.push_back(w.index);
  while (done < clip.size()) {
    done += fe->push(clip.data() + done, clip.size() - done);
    while (fe->pop_window(&w)) indices.push_back(w.index);
  }
  EXPECT_TRUE(fe->finish().ok());
  while (fe->pop_window(&w)) indices.push_back(w.index);
  ASSERT_EQ(indices.size(), 13u);
  for (std::size_t k = 0; k < indices.size(); ++k) EXPECT_EQ(indices[k], static_cast<std::int64_t>(k));
  EXPECT_EQ(fe->samples_pushed(), 160000);
  EXPECT_EQ(fe->frames_computed(), 311);
}

TEST(FrontendStreaming, WindowIsPoppableAsSoonAsItsLastFrameArrives) {
  // Kit framing: window 0 needs frames 0..63, i.e. samples 0..33,279.
  const auto clip = test::load_clip("normal");
  host::KissRealFft fft;
  auto fe = std::make_unique<Frontend>();
  ASSERT_TRUE(fe->init(config_for(Framing::kKit, Resize::kAverage), &fft).ok());
  ASSERT_EQ(fe->push(clip.data(), 33279), 33279u);
  EXPECT_EQ(fe->pending_windows(), 0);
  ASSERT_EQ(fe->push(clip.data() + 33279, 1), 1u);
  EXPECT_EQ(fe->pending_windows(), 1);
  // Centered: frame 63 ends at padded sample 63·512 + 1024 = original sample 32,768.
  ASSERT_TRUE(fe->init(config_for(Framing::kCentered, Resize::kAverage), &fft).ok());
  ASSERT_EQ(fe->push(clip.data(), 32767), 32767u);
  EXPECT_EQ(fe->pending_windows(), 0);
  ASSERT_EQ(fe->push(clip.data() + 32767, 1), 1u);
  EXPECT_EQ(fe->pending_windows(), 1);
}

}  // namespace
}  // namespace micronet_ad
