// Whole real clips against golden/frontend/clip_slider_{anomaly,normal}_id_00 (docs/frontend.md in float64).
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "host/audio/clip_features.h"
#include "support/frontend.h"

namespace micronet_ad {
namespace {

// Measured on both clips (printed below) with the host FFT (FFTW): log-mel max |diff| 1.14e-5 dB
// (anomaly) and 7.6e-6 dB (normal), patches 3.8e-6..7.6e-6, i.e. 1–3 float32 ulps of values
// around 30–100 (KissFFT: 7.6e-6 dB on both): a float32 FFT costs nothing visible against the
// float64 golden. The tolerances leave ~2x headroom for other compilers/FFTs.
constexpr double kLogMelToleranceDb = 2e-5;
constexpr double kPatchTolerance = 2e-5;
// A value whose x/scale + zp lies within this of a .5 rounding boundary may round either way.
constexpr double kBoundaryMargin = 1e-3;

using test::kModes;
using test::Mode;

host::ClipFeatures features_for(const std::vector<float>& clip, const Mode& mode, InputQuantization input) {
  FrontendConfig config;
  config.framing = mode.framing;
  config.resize = mode.resize;
  config.input = input;
  return host::compute_clip_features(clip, config);
}

class ClipGolden : public ::testing::TestWithParam<const char*> {
 protected:
  std::string clip_name() const { return GetParam(); }
  std::string dir() const { return test::golden_clip_dir(clip_name()); }
};

TEST_P(ClipGolden, LogMelMatchesBothFramings) {
  const auto clip = test::load_clip(clip_name());
  for (Framing framing : {Framing::kCentered, Framing::kKit}) {
    const bool centered = framing == Framing::kCentered;
    const std::size_t frames = centered ? 313 : 311;
    const auto golden =
        test::shared_raw<float>(dir() + (centered ? "centered_logmel_db_313x64.f32" : "kit_logmel_db_311x64.f32"));
    ASSERT_EQ(golden.size(), frames * kMelBands);
    const auto features = features_for(clip, {"", framing, Resize::kAverage}, test::kAdMediumInput);
    ASSERT_EQ(features.logmel.size(), frames);
    double max_diff = 0.0;
    for (std::size_t f = 0; f < frames; ++f) {
      for (int m = 0; m < kMelBands; ++m) {
        const double diff = std::fabs(double(features.logmel[f][m]) - golden[f * kMelBands + m]);
        max_diff = std::max(max_diff, diff);
        ASSERT_LE(diff, kLogMelToleranceDb) << "frame " << f << " band " << m;
      }
    }
    std::printf("%s %s log-mel: max |diff| = %.3g dB\n", clip_name().c_str(), to_string(framing), max_diff);
  }
}

TEST_P(ClipGolden, PatchesMatchAllThreeModes) {
  const auto clip = test::load_clip(clip_name());
  for (const Mode& mode : kModes) {
    const auto golden = test::shared_raw<float>(dir() + mode.name + "_patches_13x32x32.f32");
    ASSERT_EQ(golden.size(), 13u * kPatchElements);
    const auto features = features_for(clip, mode, test::kAdMediumInput);
    ASSERT_EQ(features.windows.size(), 13u);
    double max_diff = 0.0;
    for (std::size_t k = 0; k < 13; ++k) {
      for (int i = 0; i < kPatchElements; ++i) {
        const double diff = std::fabs(double(features.windows[k].patch[i]) - golden[k * kPatchElements + i]);
        max_diff = std::max(max_diff, diff);
        ASSERT_LE(diff, kPatchTolerance) << mode.name << " window " << k << " element " << i;
      }
    }
    std::printf("%s %s patches: max |diff| = %.3g\n", clip_name().c_str(), mode.name, max_diff);
  }
}

double distance_to_rounding_boundary(double x, InputQuantization q) {
  const double v = x / double(q.scale) + q.zero_point;
  return std::fabs(v - std::floor(v) - 0.5);
}

TEST_P(ClipGolden, Int8InputsByteEqualExceptAtRoundingBoundaries) {
  const auto clip = test::load_clip(clip_name());
  const struct {
    const char* name;
    InputQuantization params;
  } models[] = {{"ad_small", test::kAdSmallInput}, {"ad_medium", test::kAdMediumInput}};
  for (const Mode& mode : kModes) {
    const auto golden_patches = test::shared_raw<float>(dir() + mode.name + "_patches_13x32x32.f32");
    for (const auto& model : models) {
      SCOPED_TRACE(std::string(mode.name) + " " + model.name);
      const auto golden = test::shared_raw<std::int8_t>(dir() + mode.name + "_input_" + model.name + "_13x1024.i8");
      ASSERT_EQ(golden.size(), 13u * kPatchElements);
      const auto features = features_for(clip, mode, model.params);
      ASSERT_EQ(features.windows.size(), 13u);
      int near_boundary = 0, differing = 0;
      for (std::size_t k = 0; k < 13; ++k) {
        for (int i = 0; i < kPatchElements; ++i) {
          const std::size_t at = k * kPatchElements + i;
          const bool boundary = distance_to_rounding_boundary(golden_patches[at], model.params) < kBoundaryMargin;
          near_boundary += boundary;
          const int got = features.windows[k].input[i], want = golden[at];
          if (got == want) continue;
          ++differing;
          EXPECT_TRUE(boundary) << "window " << k << " element " << i << ": " << got << " vs " << want
                                << " (golden patch value " << golden_patches[at] << ")";
          EXPECT_EQ(std::abs(got - want), 1);
        }
      }
      std::printf("%s %s %s: %d of %d bytes differ; %d values lie within %.0e of a rounding boundary\n",
                  clip_name().c_str(), mode.name, model.name, differing, 13 * kPatchElements, near_boundary,
                  kBoundaryMargin);
    }
  }
}

// The golden inputs are the golden patches quantized by docs/frontend.md's rule: checks quantize_input()
// independently of the FFT.
TEST_P(ClipGolden, GoldenInputsAreQuantizedGoldenPatches) {
  for (const Mode& mode : kModes) {
    const auto patches = test::shared_raw<float>(dir() + mode.name + "_patches_13x32x32.f32");
    const auto golden = test::shared_raw<std::int8_t>(dir() + mode.name + "_input_ad_medium_13x1024.i8");
    ASSERT_EQ(patches.size(), golden.size());
    for (std::size_t i = 0; i < patches.size(); ++i) {
      if (distance_to_rounding_boundary(patches[i], test::kAdMediumInput) < kBoundaryMargin) continue;
      ASSERT_EQ(quantize_input(patches[i], test::kAdMediumInput), golden[i]) << mode.name << " element " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Slider, ClipGolden, ::testing::ValuesIn(test::kClips));

}  // namespace
}  // namespace micronet_ad
