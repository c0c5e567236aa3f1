// The shared table of `metrics` and `eval`, decisions at a threshold, and DCASE tree discovery.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "host/eval/dcase_layout.h"
#include "host/eval/metrics.h"
#include "host/eval/roc.h"
#include "support/cli.h"

namespace micronet_ad::host {
namespace {

namespace fs = std::filesystem;

std::vector<ScoreRow> rows(const std::vector<std::pair<std::string, double>>& scored) {
  std::vector<ScoreRow> out;
  for (const auto& [file, score] : scored) out.push_back({file, score, 0});
  return out;
}

TEST(PartialAuc, TiesCountHalfInsideTheFprLimitToo) {
  // Anomalies {3, 2}, normals {1, 3}: the first ROC step is the tie at 3, a diagonal from (0, 0)
  // to (0.5, 0.5); at FPR 0.1 the area is 0.1^2 / 2 = 0.005, McClish's minimum -> exactly 0.5.
  EXPECT_DOUBLE_EQ(partial_roc_auc({true, true, false, false}, {3.0, 2.0, 1.0, 3.0}, 0.1).value(), 0.5);
  // All scores equal: the whole curve is the diagonal.
  EXPECT_DOUBLE_EQ(partial_roc_auc({true, false, false}, {7.0, 7.0, 7.0}, 0.1).value(), 0.5);
}

TEST(EvaluateMachines, NamesTypesOnlyWhenThereAreSeveral) {
  const std::vector<ScoreRow> pair = rows({{"normal_id_00_0.wav", 1.0}, {"anomaly_id_00_0.wav", 2.0}});
  EXPECT_EQ(evaluate_machines({{"slider", "id_00", pair}})[0].machine_id, "id_00");
  const auto two = evaluate_machines({{"fan", "id_00", pair}, {"slider", "id_00", pair}});
  EXPECT_EQ(two[0].machine_id, "fan/id_00");
  EXPECT_EQ(two[1].machine_id, "slider/id_00");
  EXPECT_EQ(two[1].auc, 1.0);
}

TEST(MetricsTable, ShowsCountsUndefinedAndTheAverage) {
  const std::vector<IdMetrics> ids = {
      evaluate_id("id_00",
                  rows({{"normal_id_00_0.wav", 1.0}, {"anomaly_id_00_1.wav", 3.0}, {"normal_id_00_2.wav", 3.0}})),
      evaluate_id("id_02", rows({{"normal_id_02_0.wav", 1.0}}))};
  EXPECT_EQ(format_metrics_table(ids),
            "id        normal  anomaly        AUC       pAUC\n"
            "id_00          2        1   0.750000   0.526316\n"
            "id_02          1        0  undefined  undefined\n"
            "Average                     0.750000   0.526316\n");
}

TEST(Decisions, ScoreAboveTheThresholdIsAnomalous) {
  // Scores equal to the threshold are not above it.
  const std::vector<ScoreRow> r = rows({{"normal_id_00_0.wav", 0.1},
                                        {"normal_id_00_1.wav", 0.5},
                                        {"anomaly_id_00_2.wav", 0.5},
                                        {"anomaly_id_00_3.wav", 0.9},
                                        {"normal_id_00_4.wav", 0.7}});
  const IdDecisions d = decide_id(r, 0.5);
  EXPECT_EQ(d.counts.true_positives, 1u);
  EXPECT_EQ(d.counts.false_positives, 1u);
  EXPECT_EQ(d.counts.false_negatives, 1u);
  EXPECT_EQ(d.counts.true_negatives, 2u);
  EXPECT_DOUBLE_EQ(d.metrics.precision.value(), 0.5);
  EXPECT_DOUBLE_EQ(d.metrics.f1.value(), 0.5);

  const std::vector<IdMetrics> ids = {evaluate_id("id_00", r),
                                      evaluate_id("id_02", rows({{"normal_id_02_0.wav", 0.2}}))};
  const std::vector<IdDecisions> decisions = {d, decide_id(rows({{"normal_id_02_0.wav", 0.2}}), 0.3)};
  // id_02: nothing declared, nothing anomalous: precision, recall and F1 are all undefined.
  EXPECT_EQ(format_result_csv(ids, decisions),
            "id,AUC,pAUC,precision,recall,F1\n"
            "id_00,0.75,0.7368421052631579,0.5,0.5,0.5\n"
            "id_02,,,,,\n"
            "Average,0.75,0.7368421052631579,0.5,0.5,0.5\n");
  const std::string table = format_metrics_table(ids, &decisions);
  EXPECT_NE(table.find("0.750000   0.736842    0.500000   0.500000   0.500000   0.500000\n"), std::string::npos)
      << table;
  EXPECT_NE(table.find("0.300000  undefined  undefined  undefined\n"), std::string::npos) << table;
  EXPECT_THROW(format_result_csv(ids, {d}), std::invalid_argument);
}

TEST(DcaseLayout, FindsTestFoldersInEachForm) {
  const fs::path root = fs::path(test::temp_dir()) / "layout";
  fs::remove_all(root);
  for (const char* dir : {"valve/test", "fan/test", "fan/train", "notes"}) fs::create_directories(root / dir);
  auto dirs = find_split_dirs(root.string(), "test");
  ASSERT_EQ(dirs.size(), 2u);
  EXPECT_EQ(dirs[0].machine_type, "fan");
  EXPECT_EQ(dirs[0].path, (root / "fan" / "test").string());
  EXPECT_EQ(dirs[1].machine_type, "valve");
  dirs = find_split_dirs((root / "fan").string() + "/", "train");
  ASSERT_EQ(dirs.size(), 1u);
  EXPECT_EQ(dirs[0].machine_type, "fan");
  dirs = find_split_dirs((root / "valve" / "test").string(), "test");
  ASSERT_EQ(dirs.size(), 1u);
  EXPECT_EQ(dirs[0].machine_type, "valve");
  EXPECT_EQ(dirs[0].path, (root / "valve" / "test").string());
  try {
    find_split_dirs((root / "notes").string(), "test");
    ADD_FAILURE() << "no test folder accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("notes: no test/ folder"), std::string::npos) << e.what();
  }
}

TEST(DcaseLayout, ListsLabelledAndUnlabelledAudioSorted) {
  const fs::path dir = fs::path(test::temp_dir()) / "split";
  fs::remove_all(dir);
  fs::create_directories(dir / "sub");
  for (const char* name : {"normal_id_02_00000001.wav", "anomaly_id_00_00000000.WAV", "readme.txt", "take1.flac",
                           "sub/normal_id_00_00000009.wav"}) {
    std::ofstream(dir / name) << "x";
  }
  const SplitClips clips = list_split_clips(dir.string());
  EXPECT_EQ(clips.labelled, (std::vector<std::string>{(dir / "anomaly_id_00_00000000.WAV").string(),
                                                      (dir / "normal_id_02_00000001.wav").string()}));
  EXPECT_EQ(clips.unlabelled, (std::vector<std::string>{(dir / "take1.flac").string()}));
}

}  // namespace
}  // namespace micronet_ad::host
