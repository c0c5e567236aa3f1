// `micronet-ad metrics` as users run it: the golden slider table, formats and failures.
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "host/io/shared_data.h"
#include "support/cli.h"

namespace micronet_ad {
namespace {

using test::run_cli;

std::string golden_csvs() {
  std::string args;
  for (const char* id : {"00", "02", "04", "06"}) {
    args += " " + host::shared_path(std::string("golden/metrics/anomaly_score_slider_id_") + id + ".csv");
  }
  return args;
}

std::string write_temp(const std::string& name, const std::string& text) {
  const std::string path = test::temp_dir() + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

TEST(CliMetrics, TableShowsEveryIdAndTheAverage) {
  const auto r = run_cli("metrics" + golden_csvs());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("id_00        100      356   0.948511   0.764636"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Average                     0.825368   0.642051"), std::string::npos) << r.out;
}

TEST(CliMetrics, CsvIsTheDcaseResultTable) {
  const auto r = run_cli("metrics --format csv" + golden_csvs());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("id,AUC,pAUC\nid_00,0.94851123595505", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("\nAverage,0.8253675093632"), std::string::npos) << r.out;
}

TEST(CliMetrics, JsonMatchesScikitLearn) {
  const auto r = run_cli("metrics --format json" + golden_csvs());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["ids"].size(), 4u);
  EXPECT_EQ(j["ids"][3]["id"], "id_06");
  EXPECT_EQ(j["ids"][3]["machine_type"], "slider");
  EXPECT_NEAR(j["ids"][3]["auc"].get<double>(), 0.645955056180, 1e-9);
  EXPECT_NEAR(j["ids"][3]["pauc"].get<double>(), 0.480780603193, 1e-9);
  EXPECT_EQ(j["average"]["ids_with_auc"], 4);
}

TEST(CliMetrics, SingleClassIdIsUndefinedAndLeftOutOfTheAverage) {
  const std::string only_normal =
      write_temp("anomaly_score_fan_id_04.csv", "normal_id_04_0.wav,1\nnormal_id_04_1.wav,2\n");
  const std::string both =
      write_temp("anomaly_score_fan_id_00.csv", "normal_id_00_0.wav,1\r\nanomaly_id_00_1.wav,3\r\n");
  const auto r = run_cli("metrics --format json " + only_normal + " " + both);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j["ids"][0]["auc"].is_null());
  EXPECT_EQ(j["average"]["auc"], 1.0);
  EXPECT_NE(r.err.find("id_04 has 2 normal and 0 anomalous clips"), std::string::npos) << r.err;
}

TEST(CliMetrics, BadCsvNamesFileAndLine) {
  const std::string bad = write_temp("bad.csv", "normal_id_00_0.wav,1\nanomaly_id_00_1.wav,oops\n");
  const auto r = run_cli("metrics " + bad);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(bad + ":2: score 'oops' is not a number"), std::string::npos) << r.err;
}

TEST(CliMetrics, UnlabelledClipNamesFileAndLine) {
  const std::string csv = write_temp("unlabelled.csv", "normal_id_00_0.wav,1\nclip.wav,2\n");
  const auto r = run_cli("metrics " + csv);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(csv + ":2: clip name 'clip.wav'"), std::string::npos) << r.err;
}

TEST(CliMetrics, RowOfAnotherMachineThanTheFileNameSays) {
  const std::string csv = write_temp("anomaly_score_pump_id_00.csv", "normal_id_02_0.wav,1\n");
  const auto r = run_cli("metrics " + csv);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("is of machine id_02, but the file is for id_00"), std::string::npos) << r.err;
}

TEST(CliMetrics, UsageErrors) {
  EXPECT_EQ(run_cli("metrics").exit_code, 2);
  EXPECT_EQ(
      run_cli("metrics --format xml " + host::shared_path("golden/metrics/anomaly_score_slider_id_00.csv")).exit_code,
      2);
  EXPECT_EQ(run_cli("metrics /nonexistent/scores.csv").exit_code, 1);
}

}  // namespace
}  // namespace micronet_ad
