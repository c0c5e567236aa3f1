// The Python module's C++ layer (python/api), run here so that AddressSanitizer and UBSan see
// everything the module does but the pybind11 conversions: a sanitized extension cannot be
// loaded into an unsanitized Python. Checked against the golden data and the layer's own paths.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "host/io/shared_data.h"
#include "python_api.h"
#include "support/test_data.h"

namespace micronet_ad::python {
namespace {

namespace fs = std::filesystem;

ArrayView view(const void* data, char kind, int itemsize, std::vector<std::int64_t> shape, bool contiguous = true) {
  ArrayView v;
  v.data = data;
  v.kind = kind;
  v.itemsize = itemsize;
  v.shape = std::move(shape);
  v.c_contiguous = contiguous;
  return v;
}

std::string slider_clip(const char* name) {
  return host::shared_path(std::string("data/dcase2020_task2/slider/test/") + name);
}

TEST(PythonApi, RunIsByteEqualToGoldenAndChecksTheBatch) {
  const auto inputs = test::shared_int8("golden/engine/inputs_256x1024.i8");
  const auto expected = test::shared_int8("golden/engine/ad_small_outputs_256x8.i8");
  Runner runner(load_model("small"), KernelSet::kAuto, false);
  const ArrayView batch = view(inputs.data(), 'i', 1, {256, 32, 32, 1});
  std::vector<std::int8_t> out(256 * 8);
  runner.run(batch, out.data());
  EXPECT_EQ(out, expected);

  EXPECT_THROW(runner.run(view(inputs.data(), 'f', 4, {64, 32, 32, 1}), out.data()), std::invalid_argument);
  EXPECT_THROW(runner.run(view(inputs.data(), 'i', 1, {256, 32, 32}), out.data()), std::invalid_argument);
  EXPECT_THROW(runner.run(view(inputs.data(), 'i', 1, {256, 32, 32, 1}, false), out.data()), std::invalid_argument);
}

TEST(PythonApi, SetInputCopiesAnyStrides) {
  const auto inputs = test::shared_int8("golden/engine/inputs_256x1024.i8");
  const auto expected = test::shared_int8("golden/engine/ad_small_outputs_256x8.i8");
  // Input 5 stored transposed (Fortran order): strides 1, 1, 32, 1024 bytes for [1,32,32,1].
  std::vector<std::int8_t> transposed(1024);
  for (int y = 0; y < 32; ++y)
    for (int x = 0; x < 32; ++x) transposed[x * 32 + y] = inputs[5 * 1024 + y * 32 + x];
  Runner runner(load_model("small"), KernelSet::kReference, true);
  const std::int64_t strides[] = {1024, 1, 32, 1};
  runner.set_input(view(transposed.data(), 'i', 1, {1, 32, 32, 1}, false), strides);
  runner.invoke();
  const std::vector<std::int8_t> out = runner.tensor_bytes(runner.file().model.output_tensor());
  EXPECT_EQ(out, std::vector<std::int8_t>(expected.begin() + 5 * 8, expected.begin() + 6 * 8));
  EXPECT_THROW(runner.set_input(view(transposed.data(), 'i', 1, {32, 32}), strides), std::invalid_argument);
  EXPECT_THROW(runner.tensor_bytes(3), std::invalid_argument);
}

TEST(PythonApi, ModelErrorsAreClassified) {
  try {
    load_model("/nonexistent/model.tflite");
    FAIL();
  } catch (const FileError& e) {
    EXPECT_EQ(e.reason(), FileError::Reason::kNotFound);
  }
  const std::uint8_t junk[64] = {1, 2, 3};
  EXPECT_THROW(load_model_from_bytes(junk, sizeof junk), std::invalid_argument);
  EXPECT_THROW(parse_kernels("fast"), std::invalid_argument);
}

TEST(PythonApi, ArraysBecomeSamplesOrValueErrors) {
  const std::int16_t pcm[4] = {-32768, 0, 16384, 32767};
  const std::vector<float> s = samples_from_array(view(pcm, 'i', 2, {4}), 16000);
  EXPECT_EQ(s, (std::vector<float>{-1.0f, 0.0f, 0.5f, 32767.0f / 32768.0f}));
  const double bad[3] = {0.0, std::nan(""), 0.0};
  EXPECT_THROW(samples_from_array(view(bad, 'f', 8, {3}), 16000), std::invalid_argument);
  EXPECT_THROW(samples_from_array(view(pcm, 'i', 2, {2, 2}), 16000), std::invalid_argument);
  EXPECT_THROW(samples_from_array(view(pcm, 'i', 4, {2}), 16000), std::invalid_argument);
  EXPECT_THROW(samples_from_array(view(pcm, 'i', 2, {4}), 5), std::invalid_argument);
  std::vector<float> tone(48000);
  for (std::size_t i = 0; i < tone.size(); ++i) tone[i] = 0.1f * static_cast<float>(std::sin(0.05 * i));
  EXPECT_NEAR(samples_from_array(view(tone.data(), 'f', 4, {48000}), 48000).size(), 16000.0, 2.0);
}

TEST(PythonApi, FeaturesEqualGoldenFrontEnd) {
  const auto file = load_model("medium");
  const std::vector<float> samples = samples_from_file(slider_clip("anomaly_id_00_00000000.wav"), 0);
  const FeatureArray f = compute_features(samples, Framing::kCentered, Resize::kAverage, Stage::kInput, file.get());
  EXPECT_EQ(f.shape, (std::vector<std::int64_t>{13, 32, 32, 1}));
  EXPECT_EQ(f.bytes,
            test::shared_int8("golden/frontend/clip_slider_anomaly_id_00/centered-average_input_ad_medium_13x1024.i8"));
  const FeatureArray logmel = compute_features(samples, Framing::kCentered, Resize::kAverage, Stage::kLogmel, nullptr);
  EXPECT_EQ(logmel.shape, (std::vector<std::int64_t>{313, 64}));
}

TEST(PythonApi, AudioFileErrorsAreClassified) {
  const fs::path dir = fs::temp_directory_path() / ("python_api_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string junk = (dir / "normal_id_00_00000001.wav").string();
  std::ofstream(junk) << "RIFF not really";
  try {
    samples_from_file(junk, 0);
    FAIL();
  } catch (const AudioFileError& e) {
    EXPECT_EQ(e.kind(), "not_audio");
  }
  try {
    samples_from_file((dir / "missing.wav").string(), 0);
    FAIL();
  } catch (const FileError& e) {
    EXPECT_EQ(e.reason(), FileError::Reason::kNotFound);
  }
  ScoreSession session(load_model(""), ScoreSettings{});
  const std::vector<ScoreOutcome> outcomes =
      session.score_files({junk, (dir / "normal_id_00_00000002.wav").string(), (dir / "nameless.wav").string()}, "", 2);
  ASSERT_EQ(outcomes.size(), 3u);
  EXPECT_EQ(outcomes[0].type, ScoreOutcome::ErrorType::kAudio);
  EXPECT_EQ(outcomes[1].type, ScoreOutcome::ErrorType::kFileNotFound);
  EXPECT_EQ(outcomes[2].type, ScoreOutcome::ErrorType::kValue);
  EXPECT_THROW(rethrow_outcome(outcomes[0]), AudioFileError);
  fs::remove_all(dir);
}

TEST(PythonApi, ScoresAgreeAcrossFilesSamplesAndThreads) {
  ScoreSession session(load_model(""), ScoreSettings{});
  const std::string anomaly = slider_clip("anomaly_id_00_00000000.wav");
  const std::string normal = slider_clip("normal_id_00_00000000.wav");
  const auto one = nlohmann::json::parse(session.score_file(anomaly, ""));
  EXPECT_EQ(one["windows"], 13);
  EXPECT_NEAR(one["score"].get<double>(), -0.101, 1e-3);  // README: the anomaly clip with ad_medium
  const std::vector<ScoreOutcome> many = session.score_files({anomaly, normal, anomaly}, "", 2);
  ASSERT_EQ(many.size(), 3u);
  EXPECT_EQ(many[0].json, session.score_file(anomaly, ""));
  EXPECT_EQ(many[2].json, many[0].json);
  EXPECT_EQ(session.score_samples(samples_from_file(anomaly, 0), anomaly, "00"), many[0].json);
}

TEST(PythonApi, FittedProfileSavesLoadsAndScores) {
  const auto model = load_model("");
  std::vector<std::string> clips;
  for (int i = 0; i < 3; ++i)
    clips.push_back(host::shared_path("data/mimii/fan/train/normal_id_00_0000000" + std::to_string(i) + ".wav"));
  host::EnrolSettings settings;
  settings.rank = 16;
  const ProfileHandle fitted = fit_profile_files(*model, "fan", settings, clips);
  EXPECT_EQ(fitted.loo_scores.size(), 3u);
  const std::string path =
      (fs::temp_directory_path() / ("python_api_test_" + std::to_string(::getpid()) + ".mnprof")).string();
  save_profile(fitted, path);
  const ProfileHandle loaded = load_profile(path, *model);
  EXPECT_EQ(loaded.file->bytes(), fitted.file->bytes());
  EXPECT_THROW(load_profile(path, *load_model("small")), std::invalid_argument);
  fs::remove(path);
  ScoreSettings s;
  s.profile = loaded.file;
  ScoreSession session(model, s);
  const auto r = nlohmann::json::parse(session.score_file(slider_clip("anomaly_id_00_00000000.wav"), ""));
  EXPECT_GT(r["distance"].get<double>(), 0.0);
  EXPECT_TRUE(r.contains("decision"));
  EXPECT_THROW(fit_profile_files(*model, "fan", settings, {clips[0]}), std::invalid_argument);
}

TEST(PythonApi, AucAndPaucMatchHandComputedValues) {
  // Pairs (anomaly, normal): 0.35>0.1, 0.35<0.4, 0.8>0.1, 0.8>0.4 → 3 of 4.
  EXPECT_DOUBLE_EQ(auc({false, false, true, true}, {0.1, 0.4, 0.35, 0.8}), 0.75);
  EXPECT_DOUBLE_EQ(auc({false, true}, {0.5, 0.5}), 0.5);  // a tie counts half
  EXPECT_THROW(auc({true, true}, {0.1, 0.2}), std::invalid_argument);
  EXPECT_DOUBLE_EQ(pauc({false, false, true, true}, {0.1, 0.2, 0.8, 0.9}, 0.1), 1.0);
}

}  // namespace
}  // namespace micronet_ad::python
