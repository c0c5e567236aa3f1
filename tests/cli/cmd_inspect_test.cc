// The inspect command as a function (no subprocess): its flags parse into InspectOptions, its
// JSON is the model's description, its table carries the model's numbers and --probe reports the
// outputs' spread that ClipScorer gives for the same clips.
#include "cmd_inspect.h"

#include <algorithm>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/cmd_support.h"
#include "host/audio/audio_file.h"
#include "host/detect/clip_scorer.h"
#include "host/io/model_file.h"
#include "host/io/model_info.h"
#include "micronet_ad/detector.h"
#include "support/test_data.h"

namespace micronet_ad {
namespace {

using test::lines_of;
using test::printed_by;

std::string slider_test(const std::string& name) {
  return host::shared_path("data/dcase2020_task2/slider/test/" + name);
}

test::Printed inspect(const cli::InspectOptions& options) {
  return printed_by([&](std::FILE* out) { return cli::run_inspect(options, out); });
}

TEST(CmdInspect, FlagsParseIntoTheOptions) {
  CLI::App app;
  cli::InspectOptions options;
  cli::add_inspect_options(app, &options);
  test::parse_args(app, {"inspect", "small", "--json", "--framing", "kit", "--resize", "decimate", "--max-seconds", "5",
                         "--probe", "a.wav", "b.wav"});
  EXPECT_EQ(options.model, "small");
  EXPECT_EQ(options.format, cli::OutputFormat::kJson);
  EXPECT_EQ(options.mode.framing, Framing::kKit);
  EXPECT_EQ(options.mode.resize, Resize::kDecimate);
  EXPECT_EQ(options.max_seconds, 5.0);
  EXPECT_EQ(options.probe, (std::vector<std::string>{"a.wav", "b.wav"}));

  cli::InspectOptions defaults;
  CLI::App plain;
  cli::add_inspect_options(plain, &defaults);
  test::parse_args(plain, {"inspect"});
  EXPECT_EQ(defaults.model, "");
  EXPECT_EQ(defaults.format, cli::OutputFormat::kTable);
  EXPECT_TRUE(defaults.probe.empty());
  EXPECT_EQ(defaults.max_seconds, cli::kDefaultMaxSeconds);
}

TEST(CmdInspect, JsonIsTheModelsDescription) {
  cli::InspectOptions options;
  options.model = test::model_path("small");
  options.format = cli::OutputFormat::kJson;
  const test::Printed printed = inspect(options);
  ASSERT_EQ(printed.exit_code, 0);
  const nlohmann::json j = nlohmann::json::parse(printed.out);
  const auto file = host::load_model_file(options.model);
  EXPECT_EQ(j, host::model_info_json(*file));
  // And the numbers in it are the model's.
  const Model& m = file->model;
  ASSERT_EQ(j["operators"].size(), static_cast<std::size_t>(m.num_operators()));
  long long macs = 0;
  for (int i = 0; i < m.num_operators(); ++i) {
    EXPECT_EQ(j["operators"][i]["type"], op_name(m.op(i).type));
    EXPECT_EQ(j["operators"][i]["macs"].get<long long>(), m.op(i).macs);
    macs += m.op(i).macs;
  }
  EXPECT_EQ(j["total_macs"].get<long long>(), macs);
  EXPECT_FALSE(j.contains("probe"));
}

TEST(CmdInspect, TableCarriesEachOperatorsMacsAndTheTotals) {
  cli::InspectOptions options;
  options.model = test::model_path("medium");
  const test::Printed printed = inspect(options);
  ASSERT_EQ(printed.exit_code, 0);
  const std::vector<std::string> lines = lines_of(printed.out);
  const auto header = std::find_if(lines.begin(), lines.end(),
                                   [](const std::string& l) { return l.find("operator") != std::string::npos; });
  ASSERT_NE(header, lines.end()) << printed.out;
  EXPECT_NE(header->find("params B"), std::string::npos);
  const auto file = host::load_model_file(options.model);
  const Model& m = file->model;
  for (int i = 0; i < m.num_operators(); ++i) {
    const std::string& row = *(header + 1 + i);
    std::istringstream words(row);
    std::string index, type;
    words >> index >> type;
    EXPECT_EQ(index, std::to_string(i)) << row;
    EXPECT_EQ(type, op_name(m.op(i).type)) << row;
    EXPECT_EQ(test::cell_under(*header, row, "MACs", 12), std::to_string(m.op(i).macs)) << *header << "\n" << row;
  }
  EXPECT_NE(printed.out.find("\ntotal MACs       " + std::to_string(m.total_macs()) + "\n"), std::string::npos);
  EXPECT_NE(printed.out.find("arena bytes      " + std::to_string(m.arena_bytes()) + " (layer-at-a-time lower bound " +
                             std::to_string(m.arena_lower_bound()) + "); with band fusion " +
                             std::to_string(Interpreter::arena_bytes(m, true)) + "\n"),
            std::string::npos)
      << printed.out;
  EXPECT_EQ(printed.out.find("probe:"), std::string::npos);
}

TEST(CmdInspect, ProbeReportsEachOutputsRangeAcrossTheClipsWindows) {
  cli::InspectOptions options;
  options.model = test::model_path("medium");
  options.probe = {slider_test("anomaly_id_00_00000000.wav"), slider_test("normal_id_00_00000000.wav")};
  options.format = cli::OutputFormat::kJson;
  const test::Printed printed = inspect(options);
  ASSERT_EQ(printed.exit_code, 0);
  const nlohmann::json probe = nlohmann::json::parse(printed.out)["probe"];

  // The same clips through ClipScorer with the reference kernels.
  const auto file = host::load_model_file(options.model);
  host::ClipScorer scorer(file->model, Framing::kCentered, Resize::kAverage, KernelSet::kReference);
  std::int8_t lo[kNumOutputs], hi[kNumOutputs];
  std::fill(lo, lo + kNumOutputs, 127);
  std::fill(hi, hi + kNumOutputs, -128);
  long long windows = 0;
  for (const std::string& clip : options.probe) {
    const host::ClipResult r = scorer.score(host::load_audio(clip).samples, 0);
    windows += r.clip.windows;
    for (const auto& o : r.outputs) {
      for (int i = 0; i < kNumOutputs; ++i) {
        lo[i] = std::min(lo[i], o[i]);
        hi[i] = std::max(hi[i], o[i]);
      }
    }
  }
  EXPECT_EQ(probe["windows"].get<long long>(), windows);
  ASSERT_EQ(probe["outputs"].size(), static_cast<std::size_t>(kNumOutputs));
  int widest = 0;
  for (int i = 0; i < kNumOutputs; ++i) {
    EXPECT_EQ(probe["outputs"][i]["min"].get<int>(), lo[i]) << i;
    EXPECT_EQ(probe["outputs"][i]["max"].get<int>(), hi[i]) << i;
    widest = std::max(widest, hi[i] - lo[i]);
  }
  EXPECT_EQ(probe["max_output_range_steps"].get<int>(), widest);
  EXPECT_FALSE(probe["degenerate"].get<bool>());  // ad_medium listens (docs/models.md)
  ASSERT_EQ(probe["layers"].size(), static_cast<std::size_t>(file->model.num_operators()));

  options.format = cli::OutputFormat::kTable;
  const std::string table = inspect(options).out;
  EXPECT_NE(table.find("probe: 2 clip(s), " + std::to_string(windows) + " windows (centered framing, average resize)"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("outputs move by up to " + std::to_string(widest) + " quantization steps"), std::string::npos)
      << table;
  // The outputs table: output 0 is machine ID 00, with its range.
  const std::vector<std::string> lines = lines_of(table);
  const auto header = std::find(lines.begin(), lines.end(), "output  id   min   max  steps");
  ASSERT_NE(header, lines.end()) << table;
  EXPECT_EQ(*(header + 1), fmt::format("{:>6} {:>3} {:>5} {:>5} {:>6}", 0, "00", lo[0], hi[0], hi[0] - lo[0]));
}

TEST(CmdInspect, AModelOrProbeClipThatCannotBeReadFailsWithItsName) {
  cli::InspectOptions options;
  options.model = test::model_path("small");
  options.probe = {"/nonexistent/probe.wav"};
  try {
    inspect(options);
    FAIL() << "a missing probe clip was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/probe.wav"), std::string::npos) << e.what();
  }
  options.probe.clear();
  options.model = "/nonexistent/model.tflite";
  EXPECT_THROW(inspect(options), std::runtime_error);
}

}  // namespace
}  // namespace micronet_ad
