// The eval command as a function (no subprocess): its flags parse into EvalOptions (--enrol with
// and without its ROOT), and what run_eval prints and writes (score files, decision files,
// result.csv) agrees with scores computed here through ClipScorer on the same clips.
#include "cmd_eval.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <gtest/gtest.h>

#include "cli/cmd_support.h"
#include "host/audio/audio_file.h"
#include "host/detect/clip_scorer.h"
#include "host/detect/profile_set.h"
#include "host/eval/dcase_csv.h"
#include "host/eval/roc.h"
#include "host/eval/thresholds.h"
#include "host/io/model_file.h"
#include "host/io/sha1.h"
#include "support/test_data.h"

namespace micronet_ad {
namespace {

namespace fs = std::filesystem;

std::string dcase(const std::string& relative) { return host::shared_path("data/dcase2020_task2/" + relative); }

std::string model() { return test::model_path("medium"); }

std::string model_sha1() {
  const std::vector<std::uint8_t> bytes = host::read_file(model());
  return host::sha1_hex(bytes.data(), bytes.size());
}

// slider/test of a DCASE tree: the shared normal and anomaly, and four training normals linked in
// as test normals; every clip's file name → the file it links to.
const std::map<std::string, std::string>& slider_clips() {
  static const std::map<std::string, std::string> clips = [] {
    std::map<std::string, std::string> c{
        {"normal_id_00_00000000.wav", dcase("slider/test/normal_id_00_00000000.wav")},
        {"anomaly_id_00_00000000.wav", dcase("slider/test/anomaly_id_00_00000000.wav")}};
    for (int k = 1; k <= 4; ++k) {
      c["normal_id_00_0000010" + std::to_string(k) + ".wav"] =
          dcase("slider/train/normal_id_00_0000000" + std::to_string(k) + ".wav");
    }
    return c;
  }();
  return clips;
}

const test::ScratchDir& slider_tree() {
  static const test::ScratchDir tree("eval_tree");
  static const bool made = [] {
    for (const auto& [name, target] : slider_clips()) test::link_file(target, tree / ("slider/test/" + name));
    return true;
  }();
  (void)made;
  return tree;
}

// Each clip's −p[00] (neg_softmax: machine ID 00 is output 0), by name, computed here.
const std::map<std::string, double>& expected_scores() {
  static const std::map<std::string, double> scores = [] {
    const auto file = host::load_model_file(model());
    host::ClipScorer scorer(file->model, Framing::kCentered, Resize::kAverage, KernelSet::kReference);
    std::map<std::string, double> s;
    for (const auto& [name, target] : slider_clips()) {
      s[name] = scorer.score(host::load_audio(target).samples, 0).clip[ScoreMethod::kNegSoftmax];
    }
    return s;
  }();
  return scores;
}

// AUC as the share of (anomaly, normal) pairs the anomaly wins, ties half: independent of roc.cc.
double pairwise_auc(const std::map<std::string, double>& scores) {
  double wins = 0, pairs = 0;
  for (const auto& [a, sa] : scores) {
    if (a.rfind("anomaly_", 0) != 0) continue;
    for (const auto& [n, sn] : scores) {
      if (n.rfind("normal_", 0) != 0) continue;
      pairs += 1;
      wins += sa > sn ? 1.0 : sa == sn ? 0.5 : 0.0;
    }
  }
  return wins / pairs;
}

double partial_auc(const std::map<std::string, double>& scores) {
  std::vector<bool> anomalous;
  std::vector<double> values;
  for (const auto& [name, score] : scores) {
    anomalous.push_back(name.rfind("anomaly_", 0) == 0);
    values.push_back(score);
  }
  return host::partial_roc_auc(anomalous, values, host::kDcaseMaxFpr).value();
}

cli::EvalOptions options_for(const std::string& root, const std::string& out_dir) {
  cli::EvalOptions options;
  options.root = root;
  options.out_dir = out_dir;
  options.model = model();
  options.threads = 2;
  return options;
}

test::Printed run(const cli::EvalOptions& options) {
  return test::printed_by([&](std::FILE* out) { return cli::run_eval(options, out); });
}

TEST(CmdEval, FlagsParseIntoTheOptions) {
  cli::EvalOptions options;
  test::parse_into(cli::add_eval_options, &options,
                   {"eval", "--enrol", "--rank", "8", "--out", "o", "--score-kind", "nll", "--report", "r.html",
                    "--threads", "2", "--kernels", "reference", "--max-seconds", "20", "tree"});
  ASSERT_TRUE(options.enrol_root.has_value());
  EXPECT_EQ(*options.enrol_root, "");  // --enrol alone: enrol on the evaluated tree
  EXPECT_EQ(options.enrol.rank, 8u);
  EXPECT_EQ(options.out_dir, "o");
  EXPECT_EQ(options.scoring.kind, ScoreMethod::kNll);
  EXPECT_EQ(options.report_path, "r.html");
  EXPECT_EQ(options.threads, 2);
  EXPECT_EQ(options.kernels, KernelSet::kReference);
  EXPECT_EQ(options.max_seconds, 20.0);
  EXPECT_EQ(options.root, "tree");

  cli::EvalOptions with_root;
  test::parse_into(cli::add_eval_options, &with_root,
                   {"eval", "--enrol", "/train", "--compact", "--thresholds", "t.json", "tree"});
  EXPECT_EQ(with_root.enrol_root, std::optional<std::string>("/train"));
  EXPECT_TRUE(with_root.enrol.compact);
  EXPECT_EQ(with_root.scoring.thresholds, "t.json");

  cli::EvalOptions plain;
  test::parse_into(cli::add_eval_options, &plain, {"eval", "tree"});
  EXPECT_FALSE(plain.enrol_root.has_value());
  EXPECT_EQ(plain.out_dir, "result");
  EXPECT_THROW(test::parse_into(cli::add_eval_options, &plain, {"eval"}), CLI::RequiredError);
}

TEST(CmdEval, WritesEachClipsScoreAndPrintsItsMetrics) {
  const test::ScratchDir out("eval_out");
  const test::Printed printed = run(options_for(slider_tree().path(), out.path()));
  ASSERT_EQ(printed.exit_code, 0);
  const std::vector<host::ScoreRow> written = host::read_score_csv(out / "anomaly_score_slider_id_00.csv");
  ASSERT_EQ(written.size(), expected_scores().size());
  for (const host::ScoreRow& row : written) EXPECT_DOUBLE_EQ(row.score, expected_scores().at(row.file)) << row.file;
  EXPECT_FALSE(fs::exists(out / "decision_result_slider_id_00.csv"));

  const double auc = pairwise_auc(expected_scores()), pauc = partial_auc(expected_scores());
  const std::vector<std::string> lines = test::lines_of(printed.out);
  ASSERT_EQ(lines.size(), 3u) << printed.out;
  EXPECT_EQ(test::words_of(lines[0]), (std::vector<std::string>{"id", "normal", "anomaly", "AUC", "pAUC"}));
  EXPECT_EQ(test::words_of(lines[1]),
            (std::vector<std::string>{"id_00", "5", "1", fmt::format("{:.6f}", auc), fmt::format("{:.6f}", pauc)}));
  EXPECT_EQ(test::slurp_text(out / "result.csv"),
            fmt::format("id,AUC,pAUC\nid_00,{},{}\nAverage,{},{}\n", auc, pauc, auc, pauc));
}

// A threshold between the 2nd and 3rd highest normal scores: a decision per clip in
// decision_result_*.csv, and precision/recall/F1 counted here from the scores.
TEST(CmdEval, ThresholdsDecideEachClip) {
  const std::map<std::string, double>& scores = expected_scores();
  std::vector<double> normals;
  for (const auto& [name, score] : scores) {
    if (name.rfind("normal_", 0) == 0) normals.push_back(score);
  }
  std::sort(normals.rbegin(), normals.rend());
  const double threshold = (normals[1] + normals[2]) / 2;
  const test::ScratchDir out("eval_decisions");
  host::ThresholdSet set;
  set.model_sha1 = model_sha1();
  set.machines["id_00"] = {threshold, 5, std::nullopt};
  host::write_thresholds(out / "thresholds.json", set);
  cli::EvalOptions options = options_for(slider_tree() / "slider", out / "result");
  options.scoring.thresholds = out / "thresholds.json";
  const test::Printed printed = run(options);
  ASSERT_EQ(printed.exit_code, 0);

  double tp = 0, fp = 0, fn = 0;
  const std::vector<host::ScoreRow> decisions = host::read_score_csv(out / "result/decision_result_slider_id_00.csv");
  ASSERT_EQ(decisions.size(), scores.size());
  for (const host::ScoreRow& row : decisions) {
    const bool anomalous = row.file.rfind("anomaly_", 0) == 0, decided = scores.at(row.file) > threshold;
    EXPECT_EQ(row.score, decided ? 1.0 : 0.0) << row.file;
    tp += anomalous && decided;
    fp += !anomalous && decided;
    fn += anomalous && !decided;
  }
  const double precision = tp / (tp + fp), recall = tp / (tp + fn), f1 = 2 * tp / (2 * tp + fp + fn);
  const double auc = pairwise_auc(scores), pauc = partial_auc(scores);
  const std::vector<std::string> lines = test::lines_of(printed.out);
  ASSERT_EQ(lines.size(), 3u) << printed.out;
  EXPECT_EQ(test::words_of(lines[1]),
            (std::vector<std::string>{"id_00", "5", "1", fmt::format("{:.6f}", auc), fmt::format("{:.6f}", pauc),
                                      fmt::format("{:.6f}", threshold), fmt::format("{:.6f}", precision),
                                      fmt::format("{:.6f}", recall), fmt::format("{:.6f}", f1)}));
  EXPECT_EQ(test::lines_of(test::slurp_text(out / "result/result.csv"))[1],
            fmt::format("id_00,{},{},{},{},{}", auc, pauc, precision, recall, f1));
}

// --enrol fits a profile on <ROOT>/slider/train, prints its summary before the metrics, and the
// scores are the clips' distances to that profile, computed here through ClipScorer.
TEST(CmdEval, EnrolFitsProfilesAndScoresByDistance) {
  const test::ScratchDir tree("eval_enrol_tree"), out("eval_enrol_out");
  for (int k = 0; k < 3; ++k) {
    const std::string name = "normal_id_00_0000000" + std::to_string(k) + ".wav";
    test::link_file(dcase("slider/train/" + name), tree / ("slider/train/" + name));
  }
  for (const char* name : {"normal_id_00_00000000.wav", "anomaly_id_00_00000000.wav"})
    test::link_file(dcase(std::string("slider/test/") + name), tree / (std::string("slider/test/") + name));
  cli::EvalOptions options = options_for(tree.path(), out.path());
  options.enrol_root = "";
  const test::Printed printed = run(options);
  ASSERT_EQ(printed.exit_code, 0);
  const std::vector<std::string> lines = test::lines_of(printed.out);
  ASSERT_EQ(lines.size(), 5u) << printed.out;  // the profile's header and row, then the metrics
  EXPECT_EQ(test::words_of(lines[0]).front(), "machine");
  EXPECT_EQ(test::words_of(lines[1]).front(), "slider_id_00");
  EXPECT_EQ(test::words_of(lines[2]).front(), "id");

  const auto file = host::load_model_file(model());
  const auto profile =
      host::load_profile_file(out / "profiles/slider_id_00.mnprof", model_sha1(), Framing::kCentered, Resize::kAverage);
  host::ClipScorer scorer(file->model, Framing::kCentered, Resize::kAverage, KernelSet::kReference);
  for (const host::ScoreRow& row : host::read_score_csv(out / "anomaly_score_slider_id_00.csv")) {
    const double distance =
        scorer.score(host::load_audio(dcase("slider/test/" + row.file)).samples, 0, &profile->profile())
            .clip[ScoreMethod::kDistance];
    EXPECT_NEAR(row.score, distance, 1e-9 * distance) << row.file;
  }
  EXPECT_EQ(host::read_score_csv(out / "decision_result_slider_id_00.csv").size(), 2u);  // distance decides
}

// A clip that cannot be read fails alone: the others are evaluated, the exit code is 1.
TEST(CmdEval, AnUnreadableClipFailsAloneWithExitCode1) {
  const test::ScratchDir tree("eval_broken");
  for (const char* name : {"normal_id_00_00000000.wav", "anomaly_id_00_00000000.wav"})
    test::link_file(dcase(std::string("slider/test/") + name), tree / (std::string("slider/test/") + name));
  test::write_text_file(tree / "slider/test/normal_id_00_00000009.wav", "not a wav file");
  const test::Printed printed = run(options_for(tree.path(), tree / "out"));
  EXPECT_EQ(printed.exit_code, 1);
  EXPECT_EQ(host::read_score_csv(tree / "out/anomaly_score_slider_id_00.csv").size(), 2u);
  EXPECT_EQ(test::words_of(test::lines_of(printed.out).at(1))[1], "1");  // one normal clip left
}

TEST(CmdEval, RefusesRunsThatCannotStart) {
  const test::ScratchDir dir("eval_refused");
  cli::EvalOptions both = options_for(slider_tree().path(), dir / "out");
  both.enrol_root = "";
  both.scoring.profile = dir / "profiles";
  EXPECT_EQ(test::error_of([&] { run(both); }), "--enrol and --profile exclude each other");

  // One threshold per machine ID cannot serve two machine types.
  test::link_file(dcase("fan/test/normal_id_00_00000000.wav"), dir / "tree/fan/test/normal_id_00_00000000.wav");
  test::link_file(dcase("slider/test/normal_id_00_00000000.wav"), dir / "tree/slider/test/normal_id_00_00000000.wav");
  host::ThresholdSet set;
  set.model_sha1 = model_sha1();
  set.machines["id_00"] = {0.5, 5, std::nullopt};
  host::write_thresholds(dir / "thresholds.json", set);
  cli::EvalOptions two_types = options_for(dir / "tree", dir / "out");
  two_types.scoring.thresholds = dir / "thresholds.json";
  EXPECT_NE(
      test::error_of([&] { run(two_types); }).find("--thresholds applies to one machine type, but this tree has 2"),
      std::string::npos);

  fs::create_directories(dir / "empty");
  EXPECT_NE(test::error_of([&] { run(options_for(dir / "empty", dir / "out")); }).find("no test/ folder"),
            std::string::npos);
  test::write_text_file(dir / "broken/test/normal_id_00_00000000.wav", "not a wav file");
  EXPECT_NE(test::error_of([&] {
              run(options_for(dir / "broken", dir / "out"));
            }).find("none of its 1 test clips could be scored"),
            std::string::npos);
}

}  // namespace
}  // namespace micronet_ad
