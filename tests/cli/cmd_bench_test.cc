// The bench command as a function (no subprocess), with tiny runs and no timing asserted: its
// flags parse into BenchOptions, and what it reports is consistent with the model as the library
// describes it (per-operator MACs, totals, memory, the clip's windows) and with itself (rates
// from the latencies it reports, iterations and threads as asked).
#include "cmd_bench.h"

#include <algorithm>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/cmd_support.h"
#include "cpu_peak.h"
#include "host/audio/audio_file.h"
#include "host/detect/clip_scorer.h"
#include "host/io/model_file.h"
#include "support/test_data.h"

namespace micronet_ad {
namespace {

using test::lines_of;

const std::string kClip = "data/dcase2020_task2/slider/test/normal_id_00_00000000.wav";

test::Printed bench(const cli::BenchOptions& options) {
  return test::printed_by([&](std::FILE* out) { return cli::run_bench(options, out); });
}

cli::BenchOptions tiny(const std::string& model) {
  cli::BenchOptions options;
  options.model = test::model_path(model);
  options.iterations = 3;
  options.no_clip = true;
  return options;
}

TEST(CmdBench, FlagsParseIntoTheOptions) {
  CLI::App app;
  cli::BenchOptions options;
  cli::add_bench_options(app, &options);
  test::parse_args(app, {"bench", "--model", "small", "--threads", "3", "--kernels", "reference", "--iterations", "7",
                         "--json", "--clip", "c.wav", "--clip-runs", "2", "--scaling-clips", "5"});
  EXPECT_EQ(options.model, "small");
  EXPECT_EQ(options.threads, 3);
  EXPECT_EQ(options.kernels, KernelSet::kReference);
  EXPECT_EQ(options.iterations, 7);
  EXPECT_EQ(options.format, cli::OutputFormat::kJson);
  EXPECT_EQ(options.clip, "c.wav");
  EXPECT_FALSE(options.no_clip);
  EXPECT_EQ(options.clip_runs, 2);
  EXPECT_EQ(options.scaling_clips, 5);

  // A timing of no inferences means nothing: --iterations 0 is refused, not "auto".
  for (const char* flag : {"--iterations", "--threads", "--clip-runs"}) {
    CLI::App refusing;
    cli::BenchOptions ignored;
    cli::add_bench_options(refusing, &ignored);
    EXPECT_THROW(test::parse_args(refusing, {"bench", flag, "0"}), CLI::ValidationError) << flag;
  }
}

TEST(CmdBench, JsonIsConsistentWithTheModelAndItself) {
  cli::BenchOptions options = tiny("small");
  options.threads = 2;
  options.no_clip = false;
  options.clip = host::shared_path(kClip);
  options.clip_runs = 1;
  options.scaling_clips = 1;
  options.format = cli::OutputFormat::kJson;
  const test::Printed printed = bench(options);
  ASSERT_EQ(printed.exit_code, 0);
  const nlohmann::json j = nlohmann::json::parse(printed.out);

  const auto file = host::load_model_file(options.model);
  const Model& m = file->model;
  host::Engine engine(m);
  EXPECT_EQ(j["model"], options.model);
  EXPECT_EQ(j["kernels"], kernel_set_name(engine.interpreter().kernel_set()));
  EXPECT_EQ(j["threads"], 2);
  EXPECT_EQ(j["iterations_per_thread"], 3);
  EXPECT_EQ(j["total_macs"].get<long long>(), m.total_macs());
  EXPECT_EQ(j["arena_bytes"].get<std::size_t>(), m.arena_bytes());
  EXPECT_EQ(j["arena_lower_bound_bytes"].get<std::size_t>(), m.arena_lower_bound());
  EXPECT_EQ(j["interpreter_memory_bytes"].get<std::size_t>(), engine.memory_bytes());
  const double median = j["median_us"].get<double>();
  ASSERT_GT(median, 0.0);
  EXPECT_GE(j["p90_us"].get<double>(), median);
  EXPECT_NEAR(j["macs_per_second"].get<double>(), static_cast<double>(m.total_macs()) / (median * 1e-6),
              1e-9 * j["macs_per_second"].get<double>());

  ASSERT_EQ(j["ops"].size(), static_cast<std::size_t>(m.num_operators()));
  long long macs = 0;
  for (int i = 0; i < m.num_operators(); ++i) {
    const nlohmann::json& op = j["ops"][i];
    EXPECT_EQ(op["index"], i);
    EXPECT_EQ(op["op"], op_name(m.op(i).type)) << i;
    EXPECT_EQ(op["macs"].get<long long>(), m.op(i).macs) << i;
    const double us = op["median_us"].get<double>();
    if (us > 0) {
      EXPECT_NEAR(op["macs_per_second"].get<double>() * us * 1e-6, static_cast<double>(m.op(i).macs), 1e-3) << i;
    }
    macs += op["macs"].get<long long>();
  }
  EXPECT_EQ(macs, m.total_macs());

  // The peak is the resolved level's instruction, or absent for a level without one.
  const cli::PeakLoop loop = cli::peak_loop(engine.interpreter().kernel_set());
  EXPECT_EQ(j.contains("peak_macs_per_second"), loop.steps != nullptr);
  if (loop.steps != nullptr) {
    EXPECT_EQ(j["peak_instruction"], loop.instruction);
  }

  const nlohmann::json& clip = j["clip"];
  host::ClipScorer scorer(m, Framing::kCentered, Resize::kAverage);
  const host::Audio audio = host::load_audio(options.clip);
  EXPECT_EQ(clip["path"], options.clip);
  EXPECT_EQ(clip["audio_seconds"].get<double>(), audio.duration_seconds());
  EXPECT_EQ(clip["windows"].get<long long>(), scorer.score(audio.samples, 0).clip.windows);
  EXPECT_NEAR(clip["ms_per_10s"].get<double>(), clip["median_ms"].get<double>() * 10.0 / audio.duration_seconds(),
              1e-9);
  EXPECT_GE(clip["other_ms"].get<double>(), 0.0);
  const nlohmann::json& scaling = clip["scaling"];
  EXPECT_EQ(scaling["clips"], 1);
  EXPECT_EQ(scaling["workers"], 2);
  EXPECT_NEAR(scaling["speedup"].get<double>(),
              scaling["one_worker_seconds"].get<double>() / scaling["workers_seconds"].get<double>(), 1e-9);
}

TEST(CmdBench, TableShowsTheModelsMacsPerOperator) {
  cli::BenchOptions options = tiny("medium");
  options.kernels = KernelSet::kReference;  // no peak for the reference kernels
  const test::Printed printed = bench(options);
  ASSERT_EQ(printed.exit_code, 0);
  const auto file = host::load_model_file(options.model);
  const Model& m = file->model;
  EXPECT_NE(printed.out.find(options.model + "  (reference kernels, 1 thread, 3 inferences each)\n"), std::string::npos)
      << printed.out;
  EXPECT_NE(printed.out.find("(" + std::to_string(m.total_macs()) + " MACs per inference)\n"), std::string::npos)
      << printed.out;
  EXPECT_EQ(printed.out.find("peak"), std::string::npos);
  EXPECT_EQ(printed.out.find("clip  "), std::string::npos);  // --no-clip
  const std::vector<std::string> lines = lines_of(printed.out);
  const auto header = std::find_if(lines.begin(), lines.end(),
                                   [](const std::string& l) { return l.find("median us") != std::string::npos; });
  ASSERT_NE(header, lines.end()) << printed.out;
  ASSERT_EQ(lines.end() - header, m.num_operators() + 1) << printed.out;  // the table ends the output
  for (int i = 0; i < m.num_operators(); ++i) {
    const std::string& row = *(header + 1 + i);
    std::istringstream words(row);
    std::string index, type;
    words >> index >> type;
    EXPECT_EQ(index, std::to_string(i)) << row;
    EXPECT_EQ(type, op_name(m.op(i).type)) << row;
    EXPECT_EQ(test::cell_under(*header, row, "MACs", 10), std::to_string(m.op(i).macs)) << *header << "\n" << row;
  }
}

TEST(CmdBench, AClipOrModelThatCannotBeReadFailsWithItsName) {
  cli::BenchOptions options = tiny("small");
  options.no_clip = false;
  options.clip = "/nonexistent/clip.wav";
  try {
    bench(options);
    FAIL() << "a missing clip was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/clip.wav"), std::string::npos) << e.what();
  }
  options = tiny("small");
  options.model = "/nonexistent/model.tflite";
  try {
    bench(options);
    FAIL() << "a missing model was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/model.tflite"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace micronet_ad
