// `micronet-ad eval` on DCASE trees assembled from the shared clips (symlinks in a temp dir):
// the files it writes, and its table against `metrics` on those files and an independent AUC.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "host/eval/dcase_csv.h"
#include "host/eval/thresholds.h"
#include "host/io/shared_data.h"
#include "support/cli.h"

namespace micronet_ad {
namespace {

namespace fs = std::filesystem;
using test::run_cli;

std::string dcase(const std::string& relative) { return host::shared_path("data/dcase2020_task2/" + relative); }

// A fresh folder under the test's temp dir.
std::string fresh_dir(const std::string& name) {
  const fs::path dir = fs::path(test::temp_dir()) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

void link_clip(const std::string& dir, const std::string& target, const std::string& name) {
  fs::create_directories(dir);
  ASSERT_EQ(::symlink(target.c_str(), (dir + "/" + name).c_str()), 0) << dir << "/" << name;
}

// slider/test: the shared normal and anomaly plus 4 training normals renamed as test normals;
// fan/test: the shared fan pair. Both are machine id_00, so the table shows slider/ and fan/.
std::string make_tree() {
  static const std::string root = [] {
    const std::string r = fresh_dir("dcase_tree");
    link_clip(r + "/slider/test", dcase("slider/test/normal_id_00_00000000.wav"), "normal_id_00_00000000.wav");
    link_clip(r + "/slider/test", dcase("slider/test/anomaly_id_00_00000000.wav"), "anomaly_id_00_00000000.wav");
    for (int k = 1; k <= 4; ++k) {
      link_clip(r + "/slider/test", dcase("slider/train/normal_id_00_0000000" + std::to_string(k) + ".wav"),
                "normal_id_00_0000010" + std::to_string(k) + ".wav");
    }
    link_clip(r + "/fan/test", dcase("fan/test/normal_id_00_00000000.wav"), "normal_id_00_00000000.wav");
    link_clip(r + "/fan/test", dcase("fan/test/anomaly_id_00_00000000.wav"), "anomaly_id_00_00000000.wav");
    fs::create_directories(r + "/fan/train");  // other folders are ignored
    return r;
  }();
  return root;
}

std::map<std::string, double> read_scores(const std::string& csv) {
  std::map<std::string, double> scores;
  for (const host::ScoreRow& row : host::read_score_csv(csv)) scores[row.file] = row.score;
  return scores;
}

// AUC as the share of (anomaly, normal) pairs the anomaly wins, ties half: independent of roc.cc.
double pairwise_auc(const std::map<std::string, double>& scores) {
  double wins = 0.0, pairs = 0.0;
  for (const auto& [a, sa] : scores) {
    if (a.rfind("anomaly_", 0) != 0) continue;
    for (const auto& [n, sn] : scores) {
      if (n.rfind("normal_", 0) != 0) continue;
      pairs += 1.0;
      wins += sa > sn ? 1.0 : sa == sn ? 0.5 : 0.0;
    }
  }
  return wins / pairs;
}

struct Evaluated {
  test::CliResult run;
  std::string out;
};

const Evaluated& evaluated_tree() {
  static const Evaluated e = [] {
    const std::string out = fresh_dir("eval_out");
    ::unsetenv("MICRONET_AD_MODEL");
    return Evaluated{run_cli("eval --threads 2 --out " + out + " " + make_tree()), out};
  }();
  return e;
}

TEST(CliEval, WritesOneScoreFilePerMachineAndTheResultTable) {
  const Evaluated& e = evaluated_tree();
  ASSERT_EQ(e.run.exit_code, 0) << e.run.err;
  std::vector<std::string> written;
  for (const auto& entry : fs::directory_iterator(e.out)) written.push_back(entry.path().filename().string());
  std::sort(written.begin(), written.end());
  EXPECT_EQ(written,
            (std::vector<std::string>{"anomaly_score_fan_id_00.csv", "anomaly_score_slider_id_00.csv", "result.csv"}));
  const auto slider = read_scores(e.out + "/anomaly_score_slider_id_00.csv");
  ASSERT_EQ(slider.size(), 6u);
  EXPECT_EQ(read_scores(e.out + "/anomaly_score_fan_id_00.csv").size(), 2u);
  EXPECT_NE(e.run.err.find("scored 8 clips of 2 machine(s)"), std::string::npos) << e.run.err;
  // The shared anomaly sounds wrong to ad_medium: it outscores all five normals.
  EXPECT_EQ(pairwise_auc(slider), 1.0);
}

TEST(CliEval, TableAndResultCsvEqualMetricsOnTheWrittenFiles) {
  const Evaluated& e = evaluated_tree();
  ASSERT_EQ(e.run.exit_code, 0) << e.run.err;
  const std::string csvs = " " + e.out + "/anomaly_score_fan_id_00.csv " + e.out + "/anomaly_score_slider_id_00.csv";
  const auto table = run_cli("metrics" + csvs);
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_EQ(e.run.out, table.out);
  EXPECT_NE(e.run.out.find("slider/id_00"), std::string::npos) << e.run.out;
  const auto csv = run_cli("metrics --format csv" + csvs);
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_EQ(test::slurp(e.out + "/result.csv"), csv.out);
  // And the AUC in it is the pairwise one.
  const auto j = nlohmann::json::parse(run_cli("metrics --format json" + csvs).out);
  EXPECT_NEAR(j["ids"][1]["auc"].get<double>(), pairwise_auc(read_scores(e.out + "/anomaly_score_slider_id_00.csv")),
              1e-12);
  EXPECT_NEAR(j["ids"][0]["auc"].get<double>(), pairwise_auc(read_scores(e.out + "/anomaly_score_fan_id_00.csv")),
              1e-12);
}

TEST(CliEval, ScoresAreTheScoreCommandsScores) {
  const Evaluated& e = evaluated_tree();
  ASSERT_EQ(e.run.exit_code, 0) << e.run.err;
  const auto scored = run_cli("score --format json " + make_tree() + "/slider/test");
  ASSERT_EQ(scored.exit_code, 0) << scored.err;
  const auto written = read_scores(e.out + "/anomaly_score_slider_id_00.csv");
  const auto j = nlohmann::json::parse(scored.out);
  ASSERT_EQ(j["clips"].size(), written.size());
  for (const auto& clip : j["clips"]) {
    const std::string name = fs::path(clip["path"].get<std::string>()).filename().string();
    ASSERT_EQ(written.count(name), 1u) << name;
    EXPECT_EQ(written.at(name), clip["score"].get<double>()) << name;  // shortest round-trip text: exact
  }
}

TEST(CliEval, NllScoreMethodWritesNllScores) {
  const std::string out = fresh_dir("eval_nll");
  const auto r = run_cli("eval --score-kind nll --out " + out + " " + make_tree() + "/slider");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto scored = nlohmann::json::parse(run_cli("score --format json " + make_tree() + "/slider/test").out);
  const auto written = read_scores(out + "/anomaly_score_slider_id_00.csv");
  for (const auto& clip : scored["clips"]) {
    EXPECT_EQ(written.at(fs::path(clip["path"].get<std::string>()).filename().string()), clip["nll"].get<double>());
  }
}

TEST(CliEval, AcceptsATypeFolderOrATestFolder) {
  for (const std::string& root : {make_tree() + "/slider", make_tree() + "/slider/test"}) {
    const std::string out = fresh_dir("eval_single");
    const auto r = run_cli("eval --out " + out + " " + root);
    ASSERT_EQ(r.exit_code, 0) << root << ": " << r.err;
    EXPECT_TRUE(fs::exists(out + "/anomaly_score_slider_id_00.csv")) << root;
    EXPECT_EQ(r.out.rfind("id     ", 0), 0u) << r.out;  // one type: plain IDs
    EXPECT_NE(r.out.find("id_00          5        1   1.000000   1.000000"), std::string::npos) << r.out;
  }
}

TEST(CliEval, IdWithOneClassIsUndefinedNotANumber) {
  const std::string root = fresh_dir("only_normal");
  link_clip(root + "/pump/test", dcase("pump/test/normal_id_00_00000000.wav"), "normal_id_00_00000000.wav");
  link_clip(root + "/slider/test", dcase("slider/test/normal_id_00_00000000.wav"), "normal_id_00_00000000.wav");
  link_clip(root + "/slider/test", dcase("slider/test/anomaly_id_00_00000000.wav"), "anomaly_id_00_00000000.wav");
  const std::string out = fresh_dir("only_normal_out");
  const auto r = run_cli("eval --out " + out + " " + root);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("pump/id_00          1        0  undefined  undefined"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Average                          1.000000   1.000000"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("pump/id_00 has 1 normal and 0 anomalous clips: AUC and pAUC are undefined"), std::string::npos)
      << r.err;
  EXPECT_NE(test::slurp(out + "/result.csv").find("pump/id_00,,\n"), std::string::npos);
}

TEST(CliEval, BadTreesAreClearErrors) {
  const std::string empty = fresh_dir("no_test_folder");
  auto r = run_cli("eval --out " + fresh_dir("bad_out") + " " + empty);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(empty + ": no test/ folder"), std::string::npos) << r.err;

  r = run_cli("eval --out " + fresh_dir("bad_out") + " /nonexistent/dcase");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("/nonexistent/dcase: not a directory"), std::string::npos) << r.err;

  const std::string unlabelled = fresh_dir("unlabelled");
  link_clip(unlabelled + "/slider/test", dcase("slider/test/normal_id_00_00000000.wav"), "clip.wav");
  r = run_cli("eval --out " + fresh_dir("bad_out") + " " + unlabelled);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("skipping 1 audio files without a DCASE label"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("no test clips named"), std::string::npos) << r.err;

  EXPECT_EQ(run_cli("eval").exit_code, 2);
}

TEST(CliEval, ClipsOfUnknownMachinesFailButTheRestIsEvaluated) {
  const std::string root = fresh_dir("unknown_id");
  link_clip(root + "/ToyCar/test", dcase("ToyCar/test/normal_id_01_00000000.wav"), "normal_id_01_00000000.wav");
  link_clip(root + "/slider/test", dcase("slider/test/normal_id_00_00000000.wav"), "normal_id_00_00000000.wav");
  link_clip(root + "/slider/test", dcase("slider/test/anomaly_id_00_00000000.wav"), "anomaly_id_00_00000000.wav");
  const std::string out = fresh_dir("unknown_id_out");
  const auto r = run_cli("eval --out " + out + " " + root);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("normal_id_01_00000000.wav: machine ID '01' is unknown to the model"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("1 of 3 test clips could not be scored"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(out + "/anomaly_score_slider_id_00.csv"));
  EXPECT_FALSE(fs::exists(out + "/anomaly_score_ToyCar_id_01.csv"));
}

// Thresholds made here by hand (the calibrate command has its own test): decisions per clip,
// precision/recall/F1 computed independently below.
TEST(CliEval, ThresholdsAddDecisionsAndPrecisionRecallF1) {
  const Evaluated& e = evaluated_tree();
  ASSERT_EQ(e.run.exit_code, 0) << e.run.err;
  const auto slider = read_scores(e.out + "/anomaly_score_slider_id_00.csv");
  // Between the 2nd and 3rd highest normal scores: 2 false positives, the anomaly found.
  std::vector<double> normals;
  for (const auto& [name, score] : slider) {
    if (name.rfind("normal_", 0) == 0) normals.push_back(score);
  }
  std::sort(normals.rbegin(), normals.rend());
  host::ThresholdSet set;
  set.model_sha1 = "c54a0f0ddac24f2e62b48f26d8bee664d58c49b8";  // ad_medium (docs/models.md)
  set.machines["id_00"] = {(normals[1] + normals[2]) / 2, 5, std::nullopt};
  const std::string thresholds = test::temp_dir() + "/hand_thresholds.json";
  host::write_thresholds(thresholds, set);

  const std::string out = fresh_dir("eval_decisions");
  const auto r = run_cli("eval --thresholds " + thresholds + " --out " + out + " " + make_tree() + "/slider");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, int> decisions;
  for (const host::ScoreRow& row : host::read_score_csv(out + "/decision_result_slider_id_00.csv")) {
    decisions[row.file] = static_cast<int>(row.score);
  }
  ASSERT_EQ(decisions.size(), slider.size());
  for (const auto& [name, score] : slider) {
    EXPECT_EQ(decisions.at(name), score > set.machines["id_00"].threshold ? 1 : 0) << name;
  }
  // tp 1, fp 2, fn 0: precision 1/3, recall 1, F1 2/(2+2) = 0.5.
  EXPECT_NE(r.out.find("0.333333   1.000000   0.500000"), std::string::npos) << r.out;
  EXPECT_EQ(test::slurp(out + "/result.csv"),
            "id,AUC,pAUC,precision,recall,F1\nid_00,1,1,0.3333333333333333,1,0.5\n"
            "Average,1,1,0.3333333333333333,1,0.5\n");

  // One threshold per machine ID cannot serve two machine types.
  const auto both =
      run_cli("eval --thresholds " + thresholds + " --out " + fresh_dir("eval_decisions2") + " " + make_tree());
  EXPECT_EQ(both.exit_code, 1);
  EXPECT_NE(both.err.find("--thresholds applies to one machine type"), std::string::npos) << both.err;
}

}  // namespace
}  // namespace micronet_ad
