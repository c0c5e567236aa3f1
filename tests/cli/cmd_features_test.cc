// The features command as a function (no subprocess): its flags parse into FeaturesOptions, and
// the .npy it writes for each stage holds the front end's arrays for the clip: log-mel frames
// and patches as host::compute_clip_features gives them with the same framing and resize, model
// inputs as the shared golden files (computed by the Python reference) have them.
#include "cmd_features.h"

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli/cmd_support.h"
#include "host/audio/audio_file.h"
#include "host/audio/clip_features.h"
#include "host/io/npy.h"
#include "support/test_data.h"

namespace micronet_ad {
namespace {

const std::string kClip = "data/dcase2020_task2/slider/test/normal_id_00_00000000.wav";

host::ClipFeatures library_features(Framing framing, Resize resize) {
  FrontendConfig config;
  config.framing = framing;
  config.resize = resize;
  config.input = {1.0f, 0};
  return host::compute_clip_features(host::load_audio(host::shared_path(kClip)).samples, config);
}

std::vector<float> floats_of(const host::NpyArray& a) {
  std::vector<float> values(a.data.size() / sizeof(float));
  std::memcpy(values.data(), a.data.data(), values.size() * sizeof(float));
  return values;
}

cli::FeaturesOptions options_for(const test::ScratchDir& dir, cli::FeatureStage stage) {
  cli::FeaturesOptions options;
  options.audio_path = host::shared_path(kClip);
  options.output = (dir / "features.npy");
  options.stage = stage;
  return options;
}

TEST(CmdFeatures, FlagsParseIntoTheOptions) {
  CLI::App app;
  cli::FeaturesOptions options;
  cli::add_features_options(app, &options);
  test::parse_args(app, {"features", "clip.wav", "-o", "x.npy", "--stage", "patches", "--framing", "kit", "--resize",
                         "decimate", "--model", "small", "--max-seconds", "20"});
  EXPECT_EQ(options.audio_path, "clip.wav");
  EXPECT_EQ(options.output, "x.npy");
  EXPECT_EQ(options.stage, cli::FeatureStage::kPatches);
  EXPECT_EQ(options.mode.framing, Framing::kKit);
  EXPECT_EQ(options.mode.resize, Resize::kDecimate);
  EXPECT_EQ(options.model, "small");
  EXPECT_EQ(options.max_seconds, 20.0);

  CLI::App other;
  cli::FeaturesOptions defaults;
  cli::add_features_options(other, &defaults);
  test::parse_args(other, {"features", "clip.wav", "--output", "x.npy"});
  EXPECT_EQ(defaults.stage, cli::FeatureStage::kLogMel);
  EXPECT_EQ(defaults.mode.framing, Framing::kCentered);
  EXPECT_THROW(test::parse_args(other, {"features", "clip.wav", "-o", "x.npy", "--stage", "mfcc"}),
               CLI::ValidationError);
}

TEST(CmdFeatures, LogMelIsTheFrontEndsFramesOfTheClip) {
  const test::ScratchDir dir("cmd_features_logmel");
  const cli::FeaturesOptions options = options_for(dir, cli::FeatureStage::kLogMel);
  ASSERT_EQ(cli::run_features(options), 0);
  const host::NpyArray a = host::read_npy(options.output);
  const host::ClipFeatures f = library_features(Framing::kCentered, Resize::kAverage);
  EXPECT_EQ(a.dtype, "f4");
  ASSERT_EQ(a.shape, (std::vector<std::int64_t>{static_cast<std::int64_t>(f.logmel.size()), kMelBands}));
  const std::vector<float> values = floats_of(a);
  for (std::size_t frame = 0; frame < f.logmel.size(); ++frame) {
    for (int band = 0; band < kMelBands; ++band) {
      ASSERT_EQ(values[frame * kMelBands + band], f.logmel[frame][band]) << frame << " " << band;
    }
  }
}

TEST(CmdFeatures, PatchesFollowTheFramingAndResize) {
  const test::ScratchDir dir("cmd_features_patches");
  cli::FeaturesOptions options = options_for(dir, cli::FeatureStage::kPatches);
  options.mode = {Framing::kKit, Resize::kDecimate};
  ASSERT_EQ(cli::run_features(options), 0);
  const host::NpyArray a = host::read_npy(options.output);
  const host::ClipFeatures kit = library_features(Framing::kKit, Resize::kDecimate);
  ASSERT_EQ(a.shape,
            (std::vector<std::int64_t>{static_cast<std::int64_t>(kit.windows.size()), kPatchSide, kPatchSide}));
  const std::vector<float> values = floats_of(a);
  for (std::size_t w = 0; w < kit.windows.size(); ++w) {
    EXPECT_TRUE(std::equal(kit.windows[w].patch, kit.windows[w].patch + kPatchElements,
                           values.begin() + static_cast<std::ptrdiff_t>(w * kPatchElements)))
        << "window " << w;
  }
  // Not what the default mode gives: the options reached the front end.
  const host::ClipFeatures centered = library_features(Framing::kCentered, Resize::kAverage);
  EXPECT_FALSE(std::equal(centered.windows[0].patch, centered.windows[0].patch + kPatchElements, values.begin()));
}

TEST(CmdFeatures, InputsAreQuantizedWithTheModelsInputParameters) {
  const test::ScratchDir dir("cmd_features_input");
  for (const std::string model : {"small", "medium"}) {
    cli::FeaturesOptions options = options_for(dir, cli::FeatureStage::kInput);
    options.model = test::model_path(model);
    ASSERT_EQ(cli::run_features(options), 0);
    const host::NpyArray a = host::read_npy(options.output);
    EXPECT_EQ(a.dtype, "i1");
    ASSERT_EQ(a.shape, (std::vector<std::int64_t>{13, 32, 32, 1}));
    const std::vector<std::int8_t> golden = test::shared_int8(
        "golden/frontend/clip_slider_normal_id_00/centered-average_input_ad_" + model + "_13x1024.i8");
    EXPECT_EQ(std::vector<std::int8_t>(a.data.begin(), a.data.end()), golden) << model;
  }
}

TEST(CmdFeatures, AClipLongerThanMaxSecondsIsRefusedAndNothingWritten) {
  const test::ScratchDir dir("cmd_features_long");
  cli::FeaturesOptions options = options_for(dir, cli::FeatureStage::kLogMel);
  options.max_seconds = 2;  // the clip is 10 s
  try {
    cli::run_features(options);
    FAIL() << "a 10 s clip passed --max-seconds 2";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(options.audio_path + ": longer than the limit of 2 s"), std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(options.output));
}

}  // namespace
}  // namespace micronet_ad
