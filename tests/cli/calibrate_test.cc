// `micronet-ad calibrate` on the 75 normal slider training clips: the quantile is the one computed
// directly from their scores, the JSON round-trips, and thresholds refuse another model or score.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "host/eval/gamma.h"
#include "host/eval/thresholds.h"
#include "host/io/shared_data.h"
#include "support/cli.h"

namespace micronet_ad {
namespace {

namespace fs = std::filesystem;
using test::run_cli;

constexpr const char* kMediumSha1 = "c54a0f0ddac24f2e62b48f26d8bee664d58c49b8";  // docs/models.md

std::string slider(const std::string& relative) { return host::shared_path("data/dcase2020_task2/slider/" + relative); }

std::string temp(const std::string& name) { return test::temp_dir() + "/" + name; }

// Clip scores of both kinds from `score` (its JSON keeps doubles exact).
struct Scores {
  std::vector<double> neg_softmax, nll;
};
Scores score_clips(const std::string& path) {
  ::unsetenv("MICRONET_AD_MODEL");
  const auto r = run_cli("score --format json " + path);
  Scores s;
  EXPECT_EQ(r.exit_code, 0) << r.err;
  if (r.exit_code != 0) return s;
  const auto j = nlohmann::json::parse(r.out);  // kept alive for the loop
  for (const auto& clip : j["clips"]) {
    s.neg_softmax.push_back(clip["score"].get<double>());
    s.nll.push_back(clip["nll"].get<double>());
  }
  return s;
}

// numpy.quantile's default ('linear'), written out: h = (n - 1) q between the sorted neighbours.
double numpy_linear_quantile(std::vector<double> v, double q) {
  if (v.empty()) {
    ADD_FAILURE() << "no values";
    return 0.0;
  }
  std::sort(v.begin(), v.end());
  const double h = (static_cast<double>(v.size()) - 1.0) * q;
  const auto lo = static_cast<std::size_t>(std::floor(h));
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (h - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

test::CliResult calibrate(const std::string& args) {
  ::unsetenv("MICRONET_AD_MODEL");
  return run_cli("calibrate " + args);
}

// A small DCASE machine folder (8 training normals, the test pair) for the quick tests; the 75
// clips are calibrated on once, in the first test.
std::string small_machine() {
  static const std::string dir = [] {
    const std::string d = temp("small/slider");
    fs::create_directories(d + "/train");
    fs::create_directories(d + "/test");
    for (int k = 0; k < 8; ++k) {
      const std::string name = "normal_id_00_0000000" + std::to_string(k) + ".wav";
      fs::create_symlink(slider("train/" + name), d + "/train/" + name);
    }
    for (const char* name : {"normal_id_00_00000000.wav", "anomaly_id_00_00000000.wav"}) {
      fs::create_symlink(slider(std::string("test/") + name), d + "/test/" + name);
    }
    return d;
  }();
  return dir;
}

// Thresholds (q = 0.9, empirical) from the small folder's 8 training clips.
const std::string& small_thresholds() {
  static const std::string path = [] {
    const std::string p = temp("small.json");
    const auto r = calibrate("--quantile 0.9 --output " + p + " " + small_machine() + "/train");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return p;
  }();
  return path;
}

TEST(CliCalibrate, TrainingClipsEmpiricalQuantileAndRoundTrip) {
  const Scores train = score_clips(slider("train"));
  ASSERT_EQ(train.neg_softmax.size(), 75u);

  const std::string empirical = temp("empirical.json");
  auto r = calibrate("--quantile 0.9 --output " + empirical + " " + slider("train"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("id_00       75"), std::string::npos) << r.out;
  const std::string text = test::slurp(empirical);
  const auto j = nlohmann::json::parse(text);
  EXPECT_EQ(j["model_sha1"], kMediumSha1);
  EXPECT_EQ(j["score_kind"], "neg_softmax");
  EXPECT_EQ(j["method"], "empirical");
  EXPECT_EQ(j["quantile"], 0.9);
  EXPECT_EQ(j["machines"]["id_00"]["clips"], 75);
  const double threshold = j["machines"]["id_00"]["threshold"].get<double>();
  EXPECT_NEAR(threshold, numpy_linear_quantile(train.neg_softmax, 0.9), 1e-15);
  // The semantics: h = 74 * 0.9 = 66.6, so 67 of the 75 normal clips are at or below it.
  EXPECT_EQ(std::count_if(train.neg_softmax.begin(), train.neg_softmax.end(), [&](double s) { return s <= threshold; }),
            67);
  // Round trip: parsed and written again, byte for byte.
  const host::ThresholdSet set = host::parse_thresholds_json(text, empirical);
  const std::string again = temp("again.json");
  host::write_thresholds(again, set);
  EXPECT_EQ(test::slurp(again), text);
}

TEST(CliCalibrate, GammaThresholdIsTheFittedDistributionsQuantile) {
  const std::string gamma = temp("gamma.json");
  const auto r = calibrate("--method gamma --quantile 0.9 --output " + gamma + " " + small_machine() + "/train");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const host::ThresholdSet set = host::parse_thresholds_json(test::slurp(gamma), gamma);
  ASSERT_EQ(set.method, host::ThresholdMethod::kGamma);
  const host::MachineThreshold& m = set.machines.at("id_00");
  EXPECT_EQ(m.clips, 8u);
  ASSERT_TRUE(m.gamma.has_value());
  // The saved distribution puts 90% of its mass below the threshold...
  EXPECT_NEAR(host::gamma_cdf(m.threshold, *m.gamma), 0.9, 1e-9);
  // ...and is the maximum-likelihood fit of these scores.
  const std::vector<double> scores = score_clips(small_machine() + "/train").neg_softmax;
  ASSERT_EQ(scores.size(), 8u);
  const host::GammaDistribution fit = host::fit_gamma(scores);
  EXPECT_NEAR(m.gamma->shape, fit.shape, 1e-9 * fit.shape);
  EXPECT_NEAR(m.gamma->loc, fit.loc, 1e-12);
  EXPECT_NEAR(m.gamma->scale, fit.scale, 1e-9 * fit.scale);
  // An upper quantile: above the median of the normal scores.
  EXPECT_GT(m.threshold, numpy_linear_quantile(scores, 0.5));
}

TEST(CliCalibrate, MachineFolderMeansItsTrainClipsAndNllKind) {
  const std::string p = temp("nll.json");
  const auto r = calibrate("--score-kind nll -q 0.5 -o " + p + " " + small_machine());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(test::slurp(p));
  EXPECT_EQ(j["score_kind"], "nll");
  EXPECT_EQ(j["machines"]["id_00"]["clips"], 8);  // train/ only, not test/
  EXPECT_NEAR(j["machines"]["id_00"]["threshold"].get<double>(),
              numpy_linear_quantile(score_clips(small_machine() + "/train").nll, 0.5), 1e-15);
}

TEST(CliCalibrate, ThresholdsForAnotherModelOrScoreMethodAreRefused) {
  const std::string test_dir = small_machine() + "/test";
  auto r = run_cli("score --model small --thresholds " + small_thresholds() + " " + test_dir);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("calibrated for the model with SHA-1 " + std::string(kMediumSha1)), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");

  r = run_cli("eval --model large --thresholds " + small_thresholds() + " --out " + temp("refused") + " " +
              small_machine());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not for this model (SHA-1 0b7e7776c79fac28c186b2ba00314a05b7faadbf)"), std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(temp("refused")));

  r = run_cli("score --score-kind nll --thresholds " + small_thresholds() + " " + test_dir);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("calibrated on 'neg_softmax' scores, not on 'nll'"), std::string::npos) << r.err;

  // The right model (the embedded ad_medium, given as a path here) is accepted.
  r = run_cli("score --model medium --format json --thresholds " + small_thresholds() + " " + test_dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const double threshold = nlohmann::json::parse(test::slurp(small_thresholds()))["machines"]["id_00"]["threshold"];
  const auto scored = nlohmann::json::parse(r.out);
  for (const auto& clip : scored["clips"]) {
    EXPECT_EQ(clip["threshold"].get<double>(), threshold);
    EXPECT_EQ(clip["decision"], clip["score"].get<double>() > threshold ? "anomalous" : "normal");
  }
}

TEST(CliCalibrate, ScoreDecisionsInTableAndCsv) {
  const double threshold = nlohmann::json::parse(test::slurp(small_thresholds()))["machines"]["id_00"]["threshold"];
  const auto r = run_cli("score --format csv --thresholds " + small_thresholds() + " " + slider("test"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line, "path,machine_id,score,nll,windows,predicted_machine_id,degenerate,threshold,decision");
  int rows = 0;
  while (std::getline(lines, line)) {
    // path,id,score,nll,windows,predicted,degenerate,threshold,decision
    std::vector<std::string> f;
    std::istringstream fields(line);
    for (std::string field; std::getline(fields, field, ',');) f.push_back(field);
    ASSERT_EQ(f.size(), 9u) << line;
    EXPECT_NEAR(std::stod(f[7]), threshold, 1e-8);
    EXPECT_EQ(f[8], std::stod(f[2]) > threshold ? "1" : "0") << line;
    if (line.find("anomaly_id_00") != std::string::npos) {
      EXPECT_EQ(f[8], "1");  // -0.10 is far above the normal scores
    }
    ++rows;
  }
  EXPECT_EQ(rows, 2);
  const auto table = run_cli("score --thresholds " + small_thresholds() + " " + slider("test"));
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("predicted  threshold decision\n"), std::string::npos) << table.out;
}

TEST(CliCalibrate, AnomalousClipsAreLeftOut) {
  // slider/test holds one normal and one anomaly: only the normal counts, so at q=0.5 the
  // threshold is the normal clip's score.
  const std::string p = temp("one.json");
  const auto r = calibrate("-q 0.5 -o " + p + " " + slider("test"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("skipping 1 clips labelled anomalous"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("fewer than one is expected above"), std::string::npos) << r.err;
  const auto scored =
      nlohmann::json::parse(run_cli("score --format json " + slider("test/normal_id_00_00000000.wav")).out);
  const auto j = nlohmann::json::parse(test::slurp(p));
  EXPECT_EQ(j["machines"]["id_00"]["clips"], 1);
  EXPECT_EQ(j["machines"]["id_00"]["threshold"], scored["clips"][0]["score"]);
}

TEST(CliCalibrate, BadInputIsAClearError) {
  // gamma needs 3 clips; nothing is written then.
  const std::string p = temp("not_written.json");
  auto r = calibrate("--method gamma -q 0.9 -o " + p + " " + slider("test"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("id_00: cannot calibrate on its 1 clips"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(p));

  r = calibrate("-q 0.9 -o " + p + " /nonexistent.wav");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("/nonexistent.wav"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("no thresholds written"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(p));

  // A DCASE tree with several machine types: thresholds are keyed by machine ID only.
  const std::string tree = temp("two_types");
  for (const char* type : {"fan", "slider"}) {
    fs::create_directories(tree + "/" + type + "/train");
    fs::create_symlink(slider("train/normal_id_00_00000000.wav"),
                       tree + "/" + type + "/train/normal_id_00_00000000.wav");
  }
  r = calibrate("-q 0.9 -o " + p + " " + tree);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("calibrate one machine type at a time"), std::string::npos) << r.err;

  EXPECT_EQ(calibrate("-q 1.5 -o " + p + " " + slider("test")).exit_code, 2);
  EXPECT_EQ(calibrate("-q 0.9 " + slider("test")).exit_code, 2);        // no --output
  EXPECT_EQ(calibrate("-o " + p + " " + slider("test")).exit_code, 2);  // no --quantile
  EXPECT_EQ(calibrate("--method median -q 0.9 -o " + p + " " + slider("test")).exit_code, 2);
}

}  // namespace
}  // namespace micronet_ad
