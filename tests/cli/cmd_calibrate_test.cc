// The calibrate command as a function (no subprocess): its flags parse into CalibrateOptions, and
// the thresholds run_calibrate prints and writes are numpy's linear quantile of the normal clips'
// scores computed here through ClipScorer; a run that cannot calibrate writes nothing.
#include "cmd_calibrate.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/cmd_support.h"
#include "host/audio/audio_file.h"
#include "host/detect/clip_scorer.h"
#include "host/io/model_file.h"
#include "support/test_data.h"

namespace micronet_ad {
namespace {

namespace fs = std::filesystem;

std::string slider(const std::string& relative) { return host::shared_path("data/dcase2020_task2/slider/" + relative); }

std::vector<std::string> train_clips(int n) {
  std::vector<std::string> clips;
  for (int k = 0; k < n; ++k) clips.push_back(slider("train/normal_id_00_0000000" + std::to_string(k) + ".wav"));
  return clips;
}

// Each clip's −p[00], computed here through the library.
std::vector<double> neg_softmax_scores(const std::vector<std::string>& clips, const std::string& model) {
  const auto file = host::load_model_file(model);
  host::ClipScorer scorer(file->model, Framing::kCentered, Resize::kAverage, KernelSet::kReference);
  std::vector<double> scores;
  for (const std::string& clip : clips) {
    scores.push_back(scorer.score(host::load_audio(clip).samples, 0).clip[ScoreMethod::kNegSoftmax]);
  }
  return scores;
}

// numpy.quantile's default ('linear'), written out: h = (n - 1) q between the sorted neighbours.
double numpy_linear_quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double h = (static_cast<double>(v.size()) - 1.0) * q;
  const auto lo = static_cast<std::size_t>(std::floor(h));
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (h - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

cli::CalibrateOptions options_for(const std::vector<std::string>& paths, const std::string& output) {
  cli::CalibrateOptions options;
  options.paths = paths;
  options.output = output;
  options.quantile = 0.9;
  options.model = test::model_path("medium");
  options.threads = 2;
  return options;
}

test::Printed run(const cli::CalibrateOptions& options) {
  return test::printed_by([&](std::FILE* out) { return cli::run_calibrate(options, out); });
}

TEST(CmdCalibrate, FlagsParseIntoTheOptions) {
  cli::CalibrateOptions options;
  test::parse_into(cli::add_calibrate_options, &options,
                   {"calibrate", "-q", "0.8", "--method", "gamma", "-o", "t.json", "--machine-id", "03", "--score-kind",
                    "nll", "--threads", "3", "--framing", "kit", "a.wav", "train"});
  EXPECT_EQ(options.quantile, 0.8);
  EXPECT_EQ(options.method, host::ThresholdMethod::kGamma);
  EXPECT_EQ(options.output, "t.json");
  EXPECT_EQ(options.machine_id, "03");
  EXPECT_EQ(options.scoring.kind, ScoreMethod::kNll);
  EXPECT_EQ(options.threads, 3);
  EXPECT_EQ(options.mode.framing, Framing::kKit);
  EXPECT_EQ(options.paths, (std::vector<std::string>{"a.wav", "train"}));
  cli::CalibrateOptions defaults;
  test::parse_into(cli::add_calibrate_options, &defaults, {"calibrate", "-q", "0.5", "-o", "t.json", "a.wav"});
  EXPECT_EQ(defaults.method, host::ThresholdMethod::kEmpirical);
  // A quantile of 1 (or 0) is a usage error, as are a missing --quantile or --output.
  EXPECT_THROW(test::parse_into(cli::add_calibrate_options, &defaults, {"calibrate", "-q", "1", "-o", "t", "a"}),
               CLI::ValidationError);
  EXPECT_THROW(test::parse_into(cli::add_calibrate_options, &defaults, {"calibrate", "-o", "t", "a"}),
               CLI::RequiredError);
}

// Eight training normals and a test anomaly (left out: thresholds come from normal clips).
TEST(CmdCalibrate, ThresholdIsTheQuantileOfTheNormalScores) {
  const test::ScratchDir dir("calibrate");
  std::vector<std::string> clips = train_clips(8);
  cli::CalibrateOptions options = options_for(clips, dir / "thresholds.json");
  options.paths.push_back(slider("test/anomaly_id_00_00000000.wav"));
  const test::Printed printed = run(options);
  ASSERT_EQ(printed.exit_code, 0);
  const std::vector<double> scores = neg_softmax_scores(clips, options.model);
  const double expected = numpy_linear_quantile(scores, 0.9);

  const nlohmann::json j = nlohmann::json::parse(test::slurp_text(dir / "thresholds.json"));
  EXPECT_EQ(j["score_kind"], "neg_softmax");
  EXPECT_EQ(j["method"], "empirical");
  ASSERT_EQ(j["machines"].size(), 1u);
  EXPECT_EQ(j["machines"]["id_00"]["clips"], 8);
  EXPECT_NEAR(j["machines"]["id_00"]["threshold"].get<double>(), expected, 1e-12);

  const std::vector<std::string> lines = test::lines_of(printed.out);
  ASSERT_EQ(lines.size(), 2u) << printed.out;
  EXPECT_EQ(test::words_of(lines[0]), (std::vector<std::string>{"id", "clips", "min", "max", "threshold", "method"}));
  const auto [lo, hi] = std::minmax_element(scores.begin(), scores.end());
  EXPECT_EQ(test::words_of(lines[1]),
            (std::vector<std::string>{"id_00", "8", fmt::format("{:.6f}", *lo), fmt::format("{:.6f}", *hi),
                                      fmt::format("{:.6f}", expected), "empirical", "q=0.9"}));
  // The threshold column lines up under its header.
  const std::size_t end = lines[0].find("threshold") + 9;
  EXPECT_EQ(lines[1].substr(end - 10, 10), fmt::format("{:>10.6f}", expected)) << lines[1];
}

TEST(CmdCalibrate, NothingIsWrittenWhenItCannotCalibrate) {
  const test::ScratchDir dir("calibrate_refused");
  const std::string output = dir / "thresholds.json";
  // gamma needs 3 clips.
  cli::CalibrateOptions gamma = options_for(train_clips(1), output);
  gamma.method = host::ThresholdMethod::kGamma;
  EXPECT_NE(test::error_of([&] { run(gamma); }).find("id_00: cannot calibrate on its 1 clips"), std::string::npos);
  EXPECT_FALSE(fs::exists(output));
  // A clip that cannot be scored would leave the threshold resting on fewer clips than given.
  const cli::CalibrateOptions missing = options_for({train_clips(1)[0], dir / "normal_id_00_99999999.wav"}, output);
  EXPECT_EQ(test::error_of([&] { run(missing); }),
            "1 of 2 clips could not be scored; no thresholds written to " + output);
  EXPECT_FALSE(fs::exists(output));
  // Anomalous clips alone leave nothing to calibrate on.
  const cli::CalibrateOptions anomalies = options_for({slider("test/anomaly_id_00_00000000.wav")}, output);
  EXPECT_EQ(test::error_of([&] { run(anomalies); }), "no normal clips to calibrate on");
  // An output that cannot be written is refused before any scoring.
  const cli::CalibrateOptions unwritable = options_for(train_clips(1), dir / "no/such/folder/t.json");
  EXPECT_NE(test::error_of([&] { run(unwritable); }).find("cannot write the thresholds"), std::string::npos);
}

}  // namespace
}  // namespace micronet_ad
