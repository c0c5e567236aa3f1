// DCASE file names, score CSV reading/writing, the result table and decision metrics.
#include "host/eval/dcase_csv.h"

#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "host/eval/metrics.h"

namespace micronet_ad::host {
namespace {

std::string error_of(const std::string& text) {
  try {
    parse_score_csv(text, "scores.csv");
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ClipLabel, ParsesNormalAndAnomaly) {
  const auto normal = parse_clip_label("normal_id_00_00000012.wav");
  ASSERT_TRUE(normal);
  EXPECT_FALSE(normal->anomalous);
  EXPECT_EQ(normal->machine_id, "id_00");
  const auto anomaly = parse_clip_label("dev/slider/test/anomaly_id_06_00000001.wav");
  ASSERT_TRUE(anomaly);
  EXPECT_TRUE(anomaly->anomalous);
  EXPECT_EQ(anomaly->machine_id, "id_06");
}

TEST(ClipLabel, RejectsOtherNames) {
  for (const char* name : {"kit_random_id_00_000000.wav", "normal_00_00000000.wav", "normal_id_xx_00000000.wav",
                           "normal_id_00.wav", "Normal_id_00_00000000.wav", "anomaly_id__00000000.wav", ""}) {
    EXPECT_FALSE(parse_clip_label(name)) << name;
  }
}

TEST(ScoreCsv, ParsesRowsWithCrlfAndNoFinalNewline) {
  const auto rows = parse_score_csv("normal_id_00_00000000.wav,9.5\r\nanomaly_id_00_00000001.wav,-1e-3", "x");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].file, "normal_id_00_00000000.wav");
  EXPECT_EQ(rows[0].score, 9.5);
  EXPECT_EQ(rows[1].score, -1e-3);
  EXPECT_EQ(rows[1].line, 2u);
}

TEST(ScoreCsv, ToleratesBomBlankLinesSpacesAndPlusSign) {
  const auto rows = parse_score_csv(
      "\xEF\xBB\xBF"
      "a.wav, +2.5 \n\n  \nb.wav,3\n\n",
      "x");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].score, 2.5);
  EXPECT_EQ(rows[1].file, "b.wav");
  EXPECT_EQ(rows[1].line, 4u);
}

TEST(ScoreCsv, ErrorsNameSourceAndLine) {
  EXPECT_EQ(error_of("a.wav,1\nb.wav\n"), "scores.csv:2: expected 'file,score', found no comma");
  EXPECT_EQ(error_of("a.wav,1,2\n"), "scores.csv:1: expected 'file,score', found more than one comma");
  EXPECT_EQ(error_of("a.wav,1\r\n\r\n,2\r\n"), "scores.csv:3: empty file name");
  EXPECT_NE(error_of("file,score\na.wav,1\n").find("scores.csv:1: score 'score' is not a number"), std::string::npos);
  EXPECT_NE(error_of("a.wav,1\nb.wav,1.5x\n").find("scores.csv:2:"), std::string::npos);
  EXPECT_NE(error_of("a.wav,\n").find("scores.csv:1:"), std::string::npos);
  EXPECT_NE(error_of("a.wav,nan\n").find("scores.csv:1: score 'nan' is not finite"), std::string::npos);
  EXPECT_NE(error_of("a.wav,inf\n").find("not finite"), std::string::npos);
  EXPECT_NE(error_of("a.wav,1e999\n").find("scores.csv:1:"), std::string::npos);
  EXPECT_NE(error_of("a.wav,+-1\n").find("scores.csv:1:"), std::string::npos);
}

TEST(ScoreCsv, WriteAndReadBackRoundTripsExactly) {
  const std::vector<ScoreRow> rows = {{"normal_id_00_00000000.wav", -0.02449304},
                                      {"anomaly_id_00_00000000.wav", 0.1 + 0.2},
                                      {"normal_id_00_00000001.wav", 1e-300}};
  EXPECT_EQ(format_score_csv({{"a.wav", 0.5}}), "a.wav,0.5\n");
  const std::string path = ::testing::TempDir() + "/" + score_csv_name("slider", "id_00");
  write_score_csv(path, rows);
  const std::vector<ScoreRow> back = read_score_csv(path);
  std::remove(path.c_str());
  ASSERT_EQ(back.size(), rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(back[i].file, rows[i].file);
    EXPECT_EQ(back[i].score, rows[i].score);
  }
  EXPECT_THROW(format_score_csv({{"a,b.wav", 1}}), std::invalid_argument);
}

TEST(ScoreCsv, ReadErrorsNameThePath) {
  try {
    read_score_csv("/nonexistent/anomaly_score_slider_id_00.csv");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/anomaly_score_slider_id_00.csv"), std::string::npos);
  }
}

TEST(ScoreCsvName, FormatAndParse) {
  EXPECT_EQ(score_csv_name("slider", "id_02"), "anomaly_score_slider_id_02.csv");
  const auto name = parse_score_csv_name("out/anomaly_score_ToyCar_id_01.csv");
  ASSERT_TRUE(name);
  EXPECT_EQ(name->machine_type, "ToyCar");
  EXPECT_EQ(name->machine_id, "id_01");
  EXPECT_FALSE(parse_score_csv_name("scores.csv"));
  EXPECT_FALSE(parse_score_csv_name("anomaly_score_id_00.csv"));
  EXPECT_FALSE(parse_score_csv_name("anomaly_score_slider_id_0a.csv"));
  EXPECT_FALSE(parse_score_csv_name("anomaly_score_slider_id_00.txt"));
}

// DCASE 2021's decision_result files: `file,decision` rows, no header; a score equal to the
// threshold is normal (anomalous means above it).
TEST(DecisionCsv, OneRowPerClipAnomalousAboveTheThreshold) {
  const std::vector<ScoreRow> rows{
      {"normal_id_00_0.wav", 0.5, 0}, {"anomaly_id_00_1.wav", 0.7, 0}, {"normal_id_00_2.wav", 0.6, 0}};
  EXPECT_EQ(format_decision_csv(rows, 0.6), "normal_id_00_0.wav,0\nanomaly_id_00_1.wav,1\nnormal_id_00_2.wav,0\n");
  EXPECT_EQ(format_decision_csv({}, 0.6), "");
  EXPECT_EQ(decision_csv_name("slider", "id_02"), "decision_result_slider_id_02.csv");
}

TEST(Metrics, EvaluateByIdGroupsRowsByMachineId) {
  const std::vector<ScoreRow> rows = {{"normal_id_02_0.wav", 0.1},
                                      {"anomaly_id_00_0.wav", 0.9},
                                      {"normal_id_00_0.wav", 0.2},
                                      {"anomaly_id_02_0.wav", 0.05},
                                      {"normal_id_00_1.wav", 0.95}};
  const std::vector<IdMetrics> ids = evaluate_by_id(rows);
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(ids[0].machine_id, "id_02");
  EXPECT_EQ(ids[0].auc, 0.0);
  EXPECT_EQ(ids[1].machine_id, "id_00");
  EXPECT_EQ(ids[1].n_normal, 2u);
  EXPECT_EQ(ids[1].n_anomaly, 1u);
  EXPECT_EQ(ids[1].auc, 0.5);
}

TEST(Metrics, UnlabelledRowIsAnError) {
  try {
    evaluate_by_id({{"normal_id_00_0.wav", 0.1}, {"clip.wav", 0.2}});
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("clip.wav"), std::string::npos);
  }
}

TEST(Metrics, AverageSkipsUndefinedIds) {
  std::vector<IdMetrics> ids(3);
  ids[0].machine_id = "id_00", ids[0].auc = 0.8, ids[0].pauc = 0.6;
  ids[1].machine_id = "id_02";  // one class only: undefined
  ids[2].machine_id = "id_04", ids[2].auc = 0.6, ids[2].pauc = 0.5;
  const AverageMetrics average = average_metrics(ids);
  EXPECT_DOUBLE_EQ(average.auc.value(), 0.7);
  EXPECT_DOUBLE_EQ(average.pauc.value(), 0.55);
  EXPECT_EQ(average.ids_with_auc, 2u);
  EXPECT_EQ(format_result_csv(ids), "id,AUC,pAUC\nid_00,0.8,0.6\nid_02,,\nid_04,0.6,0.5\nAverage,0.7,0.55\n");
  EXPECT_FALSE(average_metrics({ids[1]}).auc.has_value());
  EXPECT_EQ(format_result_csv({ids[1]}), "id,AUC,pAUC\nid_02,,\nAverage,,\n");
}

TEST(Metrics, SingleClassIdIsUndefined) {
  const IdMetrics id = evaluate_id("id_00", {{"normal_id_00_0.wav", 0.1}, {"normal_id_00_1.wav", 0.2}});
  EXPECT_FALSE(id.auc.has_value());
  EXPECT_FALSE(id.pauc.has_value());
  EXPECT_EQ(id.n_normal, 2u);
}

TEST(DecisionMetrics, PrecisionRecallF1) {
  // labels:    A A A N N N
  // decisions: A A N A N N -> tp 2, fn 1, fp 1, tn 2
  const Confusion counts =
      count_decisions({true, true, true, false, false, false}, {true, true, false, true, false, false});
  EXPECT_EQ(counts.true_positives, 2u);
  EXPECT_EQ(counts.false_negatives, 1u);
  EXPECT_EQ(counts.false_positives, 1u);
  EXPECT_EQ(counts.true_negatives, 2u);
  const DecisionMetrics m = decision_metrics(counts);
  EXPECT_DOUBLE_EQ(m.precision.value(), 2.0 / 3);
  EXPECT_DOUBLE_EQ(m.recall.value(), 2.0 / 3);
  EXPECT_DOUBLE_EQ(m.f1.value(), 2.0 / 3);
}

TEST(DecisionMetrics, ZeroDenominatorsAreUndefined) {
  // Nothing predicted anomalous: precision undefined, recall 0, F1 0.
  const DecisionMetrics none = decision_metrics(count_decisions({true, false}, {false, false}));
  EXPECT_FALSE(none.precision.has_value());
  EXPECT_EQ(none.recall, 0.0);
  EXPECT_EQ(none.f1, 0.0);
  // No anomalies and none predicted: all undefined.
  const DecisionMetrics empty = decision_metrics(count_decisions({false, false}, {false, false}));
  EXPECT_FALSE(empty.precision || empty.recall || empty.f1);
  EXPECT_THROW(count_decisions({true}, {}), std::invalid_argument);
}

}  // namespace
}  // namespace micronet_ad::host
