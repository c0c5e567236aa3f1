// The metrics command as a function (no subprocess): its flags parse into MetricsOptions, and
// run_metrics' CSV, table and JSON carry scikit-learn's AUC and pAUC of the golden slider score
// files (golden/metrics/expected_auc_pauc.csv, computed outside this project).
#include "cmd_metrics.h"

#include <string>
#include <vector>

#include <fmt/core.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/cmd_support.h"
#include "host/eval/dcase_csv.h"
#include "support/test_data.h"

namespace micronet_ad {
namespace {

std::vector<std::string> golden_csvs() {
  std::vector<std::string> paths;
  for (const char* id : {"00", "02", "04", "06"}) {
    paths.push_back(host::shared_path(std::string("golden/metrics/anomaly_score_slider_id_") + id + ".csv"));
  }
  return paths;
}

// One row of expected_auc_pauc.csv: file,n_anomaly,n_normal,auc,pauc_p0.1_mcclish.
struct Expected {
  std::string id;  // from the file's name
  std::size_t n_normal = 0, n_anomaly = 0;
  double auc = 0, pauc = 0;
};

std::vector<Expected> sklearn_metrics() {
  const std::vector<std::uint8_t> bytes = test::shared_bytes("golden/metrics/expected_auc_pauc.csv");
  const std::vector<std::string> lines = test::lines_of(std::string(bytes.begin(), bytes.end()));
  std::vector<Expected> expected;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::vector<std::string> f = test::split(lines[i]);
    if (f.size() != 5) continue;
    expected.push_back({host::parse_score_csv_name(f[0])->machine_id, std::stoul(f[2]), std::stoul(f[1]),
                        std::stod(f[3]), std::stod(f[4])});
  }
  EXPECT_EQ(expected.size(), 4u);
  return expected;
}

test::Printed run(const std::vector<std::string>& paths, cli::OutputFormat format) {
  cli::MetricsOptions options;
  options.csv_paths = paths;
  options.format = format;
  return test::printed_by([&](std::FILE* out) { return cli::run_metrics(options, out); });
}

TEST(CmdMetrics, FlagsParseIntoTheOptions) {
  cli::MetricsOptions options;
  test::parse_into(cli::add_metrics_options, &options, {"metrics", "--format", "json", "a.csv", "b.csv"});
  EXPECT_EQ(options.format, cli::OutputFormat::kJson);
  EXPECT_EQ(options.csv_paths, (std::vector<std::string>{"a.csv", "b.csv"}));
  cli::MetricsOptions defaults;
  test::parse_into(cli::add_metrics_options, &defaults, {"metrics", "a.csv"});
  EXPECT_EQ(defaults.format, cli::OutputFormat::kTable);
  EXPECT_THROW(test::parse_into(cli::add_metrics_options, &defaults, {"metrics", "--format", "xml", "a.csv"}),
               CLI::ValidationError);
  EXPECT_THROW(test::parse_into(cli::add_metrics_options, &defaults, {"metrics"}), CLI::RequiredError);
}

TEST(CmdMetrics, CsvIsTheDcaseResultTableWithScikitLearnsValues) {
  const test::Printed printed = run(golden_csvs(), cli::OutputFormat::kCsv);
  ASSERT_EQ(printed.exit_code, 0);
  const std::vector<std::string> lines = test::lines_of(printed.out);
  const std::vector<Expected> expected = sklearn_metrics();
  ASSERT_EQ(lines.size(), expected.size() + 2) << printed.out;
  EXPECT_EQ(lines[0], "id,AUC,pAUC");
  double auc_sum = 0, pauc_sum = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const std::vector<std::string> f = test::split(lines[i + 1]);
    ASSERT_EQ(f.size(), 3u) << lines[i + 1];
    EXPECT_EQ(f[0], expected[i].id);
    EXPECT_NEAR(std::stod(f[1]), expected[i].auc, 1e-9) << lines[i + 1];
    EXPECT_NEAR(std::stod(f[2]), expected[i].pauc, 1e-9) << lines[i + 1];
    auc_sum += expected[i].auc;
    pauc_sum += expected[i].pauc;
  }
  const std::vector<std::string> average = test::split(lines.back());
  ASSERT_EQ(average.size(), 3u);
  EXPECT_EQ(average[0], "Average");
  EXPECT_NEAR(std::stod(average[1]), auc_sum / 4, 1e-9);
  EXPECT_NEAR(std::stod(average[2]), pauc_sum / 4, 1e-9);
}

TEST(CmdMetrics, TableShowsCountsAndValuesUnderTheirHeaders) {
  const test::Printed printed = run(golden_csvs(), cli::OutputFormat::kTable);
  ASSERT_EQ(printed.exit_code, 0);
  const std::vector<std::string> lines = test::lines_of(printed.out);
  const std::vector<Expected> expected = sklearn_metrics();
  ASSERT_EQ(lines.size(), expected.size() + 2) << printed.out;
  EXPECT_EQ(test::words_of(lines[0]), (std::vector<std::string>{"id", "normal", "anomaly", "AUC", "pAUC"}));
  const std::size_t auc_end = lines[0].find("AUC") + 3, pauc_end = lines[0].find("pAUC") + 4;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const std::string& line = lines[i + 1];
    EXPECT_EQ(test::words_of(line),
              (std::vector<std::string>{expected[i].id, std::to_string(expected[i].n_normal),
                                        std::to_string(expected[i].n_anomaly), fmt::format("{:.6f}", expected[i].auc),
                                        fmt::format("{:.6f}", expected[i].pauc)}));
    // Right-aligned: each value ends where its header ends.
    EXPECT_EQ(line.substr(auc_end - 8, 8), fmt::format("{:.6f}", expected[i].auc)) << line;
    EXPECT_EQ(line.substr(pauc_end - 8, 8), fmt::format("{:.6f}", expected[i].pauc)) << line;
  }
  EXPECT_EQ(test::words_of(lines.back()).front(), "Average");
}

TEST(CmdMetrics, JsonNamesTypeAndIdWithCountsAndValues) {
  const test::Printed printed = run(golden_csvs(), cli::OutputFormat::kJson);
  ASSERT_EQ(printed.exit_code, 0);
  const nlohmann::json j = nlohmann::json::parse(printed.out);
  const std::vector<Expected> expected = sklearn_metrics();
  EXPECT_EQ(j["max_fpr"], 0.1);
  ASSERT_EQ(j["ids"].size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const nlohmann::json& id = j["ids"][i];
    EXPECT_EQ(id["id"], expected[i].id);
    EXPECT_EQ(id["machine_type"], "slider");
    EXPECT_EQ(id["machine_id"], expected[i].id);
    EXPECT_EQ(id["n_normal"], expected[i].n_normal);
    EXPECT_EQ(id["n_anomaly"], expected[i].n_anomaly);
    EXPECT_NEAR(id["auc"].get<double>(), expected[i].auc, 1e-9);
    EXPECT_NEAR(id["pauc"].get<double>(), expected[i].pauc, 1e-9);
  }
  EXPECT_EQ(j["average"]["ids_with_auc"], 4);
}

// A machine whose clips are all normal has no AUC: null in the JSON, left out of the Average.
TEST(CmdMetrics, SingleClassMachineIsUndefined) {
  const test::ScratchDir dir("metrics_single_class");
  test::write_text_file(dir / "anomaly_score_fan_id_04.csv", "normal_id_04_0.wav,1\nnormal_id_04_1.wav,2\n");
  test::write_text_file(dir / "anomaly_score_fan_id_00.csv", "normal_id_00_0.wav,1\nanomaly_id_00_1.wav,3\n");
  const test::Printed printed =
      run({dir / "anomaly_score_fan_id_04.csv", dir / "anomaly_score_fan_id_00.csv"}, cli::OutputFormat::kJson);
  ASSERT_EQ(printed.exit_code, 0);
  const nlohmann::json j = nlohmann::json::parse(printed.out);
  EXPECT_TRUE(j["ids"][0]["auc"].is_null());
  EXPECT_EQ(j["ids"][1]["auc"], 1.0);
  EXPECT_EQ(j["average"]["auc"], 1.0);
  EXPECT_EQ(j["average"]["ids_with_auc"], 1);
}

TEST(CmdMetrics, BadRowsAreErrorsNamingFileAndLine) {
  const test::ScratchDir dir("metrics_bad");
  const std::string unlabelled = dir / "unlabelled.csv", twice = dir / "anomaly_score_fan_id_00.csv";
  test::write_text_file(unlabelled, "normal_id_00_0.wav,1\nclip.wav,2\n");
  test::write_text_file(twice, "normal_id_00_0.wav,1\n");
  test::write_text_file(dir / "empty.csv", "\n\n");  // blank lines: no rows
  EXPECT_NE(test::error_of([&] {
              run({unlabelled}, cli::OutputFormat::kTable);
            }).find(unlabelled + ":2: clip name 'clip.wav' does not give its label"),
            std::string::npos);
  EXPECT_NE(test::error_of([&] {
              run({twice, twice}, cli::OutputFormat::kTable);
            }).find(twice + ":1: clip 'normal_id_00_0.wav' was already scored at " + twice + ":1"),
            std::string::npos);
  EXPECT_EQ(test::error_of([&] { run({dir / "empty.csv"}, cli::OutputFormat::kTable); }),
            "no score rows in the given files");
}

}  // namespace
}  // namespace micronet_ad
