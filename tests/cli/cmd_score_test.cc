// The score command as a function (no subprocess): its flags parse into ScoreOptions, and
// run_score's table, CSV and JSON carry what ClipScorer computes for the same clips.
#include "cmd_score.h"

#include <unistd.h>

#include <cstdio>
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

std::string slider_test(const std::string& name) {
  return host::shared_path("data/dcase2020_task2/slider/test/" + name);
}

test::Printed run(const cli::ScoreOptions& options) {
  return test::printed_by([&](std::FILE* out) { return cli::run_score(options, out); });
}

// The clip's −p[00], computed here through the library rather than the command.
double independent_score(const std::string& path, const std::string& model) {
  const auto file = host::load_model_file(model);
  host::ClipScorer scorer(file->model, Framing::kCentered, Resize::kAverage, KernelSet::kReference);
  return scorer.score(host::load_audio(path).samples, 0).clip[ScoreMethod::kNegSoftmax];
}

cli::ScoreOptions options_for(const std::vector<std::string>& paths) {
  cli::ScoreOptions options;
  options.paths = paths;
  options.model = test::model_path("medium");
  options.threads = 2;
  return options;
}

TEST(CmdScore, FlagsParseIntoTheOptions) {
  cli::ScoreOptions options;
  test::parse_into(cli::add_score_options, &options,
                   {"score", "--format", "csv", "--machine-id", "03", "--threads", "3", "--kernels", "reference",
                    "--framing", "kit", "--max-seconds", "12.5", "a.wav", "dir"});
  EXPECT_EQ(options.format, cli::OutputFormat::kCsv);
  EXPECT_EQ(options.machine_id, "03");
  EXPECT_EQ(options.threads, 3);
  EXPECT_EQ(options.kernels, KernelSet::kReference);
  EXPECT_EQ(options.mode.framing, Framing::kKit);
  EXPECT_EQ(options.max_seconds, 12.5);
  EXPECT_EQ(options.paths, (std::vector<std::string>{"a.wav", "dir"}));
}

TEST(CmdScore, CsvCarriesEachClipsScoreInInputOrder) {
  const std::vector<std::string> clips{slider_test("normal_id_00_00000000.wav"),
                                       slider_test("anomaly_id_00_00000000.wav")};
  cli::ScoreOptions options = options_for(clips);
  options.format = cli::OutputFormat::kCsv;
  const test::Printed printed = run(options);
  ASSERT_EQ(printed.exit_code, 0);
  const std::vector<std::string> lines = test::lines_of(printed.out);
  ASSERT_EQ(lines.size(), 3u) << printed.out;
  EXPECT_EQ(lines[0], "path,machine_id,score,nll,windows,predicted_machine_id,degenerate");
  for (std::size_t i = 0; i < clips.size(); ++i) {
    const std::vector<std::string> fields = test::split(lines[i + 1]);
    ASSERT_EQ(fields.size(), 7u) << lines[i + 1];
    EXPECT_EQ(fields[0], clips[i]);
    EXPECT_EQ(fields[1], "00");
    EXPECT_EQ(fields[2], fmt::format("{:.8f}", independent_score(clips[i], options.model)));
  }
}

TEST(CmdScore, TableAndJsonAgreeWithTheCsv) {
  const std::vector<std::string> clips{slider_test("anomaly_id_00_00000000.wav")};
  cli::ScoreOptions options = options_for(clips);
  const double expected = independent_score(clips[0], options.model);
  options.format = cli::OutputFormat::kTable;
  const std::vector<std::string> table = test::lines_of(run(options).out);
  ASSERT_EQ(table.size(), 2u);
  EXPECT_EQ(table[0].find("path"), 0u);
  // The score column lines up under its header and shows 6 decimals.
  const std::size_t score_end = table[0].find("score") + 5;
  EXPECT_EQ(table[1].substr(score_end - 10, 10), fmt::format("{:>10.6f}", expected)) << table[1];

  options.format = cli::OutputFormat::kJson;
  const nlohmann::json j = nlohmann::json::parse(run(options).out);
  ASSERT_EQ(j["clips"].size(), 1u);
  EXPECT_NEAR(j["clips"][0]["score"].get<double>(), expected, 1e-12);
  EXPECT_EQ(j["failed"].size(), 0u);
}

TEST(CmdScore, AMissingClipFailsAloneAndSetsExitCode1) {
  cli::ScoreOptions options =
      options_for({"/nonexistent/normal_id_00_00000000.wav", slider_test("normal_id_00_00000000.wav")});
  options.format = cli::OutputFormat::kJson;
  const test::Printed printed = run(options);
  EXPECT_EQ(printed.exit_code, 1);
  const nlohmann::json j = nlohmann::json::parse(printed.out);
  EXPECT_EQ(j["clips"].size(), 1u);
  ASSERT_EQ(j["failed"].size(), 1u);
  EXPECT_EQ(j["failed"][0]["path"], "/nonexistent/normal_id_00_00000000.wav");
}

// File names need not be UTF-8; the JSON document shows such bytes as U+FFFD instead of failing.
TEST(CmdScore, JsonSurvivesAFileNameThatIsNotUtf8) {
  const fs::path dir = fs::temp_directory_path() / ("cmd_score_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path odd = dir / "normal_id_00_\xff\xfe.wav";
  fs::copy_file(slider_test("normal_id_00_00000000.wav"), odd, fs::copy_options::overwrite_existing);
  cli::ScoreOptions options = options_for({odd.string()});
  options.format = cli::OutputFormat::kJson;
  const test::Printed printed = run(options);
  fs::remove_all(dir);
  ASSERT_EQ(printed.exit_code, 0);
  const nlohmann::json j = nlohmann::json::parse(printed.out);
  ASSERT_EQ(j["clips"].size(), 1u);
  EXPECT_NE(j["clips"][0]["path"].get<std::string>().find("\xef\xbf\xbd"), std::string::npos);
}

}  // namespace
}  // namespace micronet_ad
