// The enrol command as a function (no subprocess): its flags parse into EnrolOptions, and the
// profile run_enrol writes and the summary row it prints are those of the library's enrolment
// (host::enrol_clips) of the same normal clips; what cannot be fitted is refused.
#include "cmd_enrol.h"

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <gtest/gtest.h>

#include "cli/cmd_support.h"
#include "host/io/model_file.h"
#include "support/test_data.h"

namespace micronet_ad {
namespace {

namespace fs = std::filesystem;

std::string fan(const std::string& relative) { return host::shared_path("data/mimii/fan/" + relative); }

std::vector<std::string> fan_train(int n) {
  std::vector<std::string> clips;
  for (int k = 0; k < n; ++k) clips.push_back(fan("train/normal_id_00_0000000" + std::to_string(k) + ".wav"));
  return clips;
}

cli::EnrolOptions options_for(const std::vector<std::string>& paths, const std::string& output) {
  cli::EnrolOptions options;
  options.paths = paths;
  options.output = output;
  options.model = test::model_path("medium");
  options.threads = 2;
  return options;
}

test::Printed run(const cli::EnrolOptions& options) {
  return test::printed_by([&](std::FILE* out) { return cli::run_enrol(options, out); });
}

// The summary row enrol should print for `fit`, split into words.
std::vector<std::string> expected_row(const host::FitResult& fit, const std::string& path) {
  const auto [lo, hi] = std::minmax_element(fit.loo_scores.begin(), fit.loo_scores.end());
  return {fit.header.name,
          std::to_string(fit.header.clips),
          std::to_string(fit.header.windows),
          fmt::format("{}/{}", fit.header.rank, fit.header.embedding_size),
          fmt::format("{:.4f}", fit.header.shrinkage),
          fmt::format("{:.4f}", fit.header.threshold),
          fmt::format("{:.4f}..{:.4f}", *lo, *hi),
          std::to_string(fit.bytes.size()),
          path};
}

TEST(CmdEnrol, FlagsParseIntoTheOptions) {
  cli::EnrolOptions options;
  test::parse_into(
      cli::add_enrol_options, &options,
      {"enrol",     "--compact", "--quantile",   "0.9",      "--rank",        "4",  "--name",    "pump",
       "-o",        "p.mnprof",  "--machine-id", "03",       "--max-seconds", "5",  "--kernels", "reference",
       "--threads", "2",         "--resize",     "decimate", "a.wav",         "dir"});
  EXPECT_TRUE(options.fit.compact);
  EXPECT_EQ(options.fit.quantile, 0.9);
  EXPECT_EQ(options.fit.rank, 4u);
  EXPECT_EQ(options.name, "pump");
  EXPECT_EQ(options.output, "p.mnprof");
  EXPECT_EQ(options.machine_id, "03");
  EXPECT_EQ(options.max_seconds, 5.0);
  EXPECT_EQ(options.kernels, KernelSet::kReference);
  EXPECT_EQ(options.threads, 2);
  EXPECT_EQ(options.mode.resize, Resize::kDecimate);
  EXPECT_EQ(options.paths, (std::vector<std::string>{"a.wav", "dir"}));
  cli::EnrolOptions bad;
  EXPECT_THROW(test::parse_into(cli::add_enrol_options, &bad, {"enrol", "a.wav"}), CLI::RequiredError);
  EXPECT_THROW(test::parse_into(cli::add_enrol_options, &bad, {"enrol", "--quantile", "0.2", "-o", "p", "a.wav"}),
               CLI::ValidationError);
}

// Four normal clips and an anomaly (left out): one profile, named by the clips' common ID.
TEST(CmdEnrol, ProfileAndSummaryAreTheLibrarysFit) {
  const test::ScratchDir dir("enrol");
  cli::EnrolOptions options = options_for(fan_train(4), dir / "fan.mnprof");
  options.paths.push_back(fan("test/anomaly_id_00_00000000.wav"));
  const test::Printed printed = run(options);
  ASSERT_EQ(printed.exit_code, 0);

  const auto file = host::load_model_file(options.model);
  host::EnrolSettings settings;
  settings.threads = 2;
  const host::FitResult fit = host::enrol_clips(*file, "id_00", settings, fan_train(4));
  EXPECT_EQ(fit.header.clips, 4u);
  EXPECT_EQ(fit.header.rank, host::embedding_size(file->model));  // full rank by default
  const std::vector<std::uint8_t> written = host::read_file(options.output);
  EXPECT_TRUE(written == fit.bytes) << "the profile file differs from the library's fit";

  const std::vector<std::string> lines = test::lines_of(printed.out);
  ASSERT_EQ(lines.size(), 2u) << printed.out;
  EXPECT_EQ(test::words_of(lines[0]),
            (std::vector<std::string>{"machine", "clips", "windows", "rank/D", "shrinkage", "threshold",
                                      "leave-one-out", "scores", "bytes", "profile"}));
  EXPECT_EQ(test::words_of(lines[1]), expected_row(fit, options.output));
  // Numbers are right-aligned under their headers.
  const std::size_t threshold_end = lines[0].find("threshold") + 9;
  EXPECT_EQ(lines[1].substr(threshold_end - 11, 11), fmt::format("{:>11.4f}", fit.header.threshold)) << lines[1];
}

TEST(CmdEnrol, CompactProfileIntoAFolderIsNamedByMachineId) {
  const test::ScratchDir dir("enrol_folder");
  cli::EnrolOptions options = options_for(fan_train(3), dir.path());
  options.fit.compact = true;
  const test::Printed printed = run(options);
  ASSERT_EQ(printed.exit_code, 0);
  const std::string profile = dir / "id_00.mnprof";
  ASSERT_TRUE(fs::exists(profile));
  const auto file = host::load_model_file(options.model);
  host::EnrolSettings settings;
  settings.rank = host::kCompactRank;
  const host::FitResult fit = host::enrol_clips(*file, "id_00", settings, fan_train(3));
  EXPECT_TRUE(host::read_file(profile) == fit.bytes);
  const std::vector<std::string> lines = test::lines_of(printed.out);
  ASSERT_EQ(lines.size(), 2u) << printed.out;
  EXPECT_EQ(test::words_of(lines[1]), expected_row(fit, profile));
  EXPECT_EQ(test::words_of(lines[1])[3], fmt::format("{}/{}", host::kCompactRank, host::embedding_size(file->model)));
}

TEST(CmdEnrol, RefusesWhatItCannotFit) {
  const test::ScratchDir dir("enrol_refused");
  EXPECT_NE(test::error_of([&] { run(options_for(fan_train(1), dir / "one.mnprof")); }).find("at least 2"),
            std::string::npos);
  EXPECT_EQ(test::error_of([&] { run(options_for({fan("test/anomaly_id_00_00000000.wav")}, dir / "a.mnprof")); }),
            "no normal clips to enrol");
  // Into a folder, every clip needs a machine: a name without a DCASE ID has none.
  test::link_file(fan_train(1)[0], dir / "clips/pump_0.wav");
  fs::create_directories(dir / "profiles");
  EXPECT_NE(test::error_of([&] {
              run(options_for({dir / "clips/pump_0.wav"}, dir / "profiles"));
            }).find("pump_0.wav: no machine ID in the file name"),
            std::string::npos);
  EXPECT_NE(test::error_of([&] {
              run(options_for(fan_train(2), dir / "no/such/folder/p.mnprof"));
            }).find("cannot write the profile"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(dir / "one.mnprof"));
}

}  // namespace
}  // namespace micronet_ad
