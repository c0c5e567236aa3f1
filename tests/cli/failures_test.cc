// How the CLI fails: hostile audio headers, output lost to a full disk, usage errors
// (exit 2), mistyped model names and the degenerate-model hint. Test audio is generated here.
#include <sys/wait.h>

#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/cli.h"
#include "test_wav.h"

namespace micronet_ad {
namespace {

using test::run_cli;

using test::write_wav;

// Runs the CLI with stdout on /dev/full (run_cli would send it to a file).
test::CliResult run_cli_to_full_disk(const std::string& args) {
  const std::string err = test::temp_dir() + "/full.err";
  const int status = std::system((test::cli_path() + " " + args + " >/dev/full 2>" + err + " </dev/null").c_str());
  test::CliResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.err = test::slurp(err);
  return r;
}

TEST(CliHostileAudio, OneHertzHeaderIsRefusedNamingTheFile) {
  // 320 KB claimed to be 160,000 s of 1 Hz audio: resampled, that was 10 GB.
  const std::string path = write_wav("normal_id_00_00000001.wav", 1, 320000);
  for (const std::string& command : {"score " + path, "features -o " + test::temp_dir() + "/f.npy " + path}) {
    const auto r = run_cli(command);
    EXPECT_EQ(r.exit_code, 1) << command;
    EXPECT_NE(r.err.find(path + ": sample rate 1 Hz is below the 1000 Hz minimum"), std::string::npos) << r.err;
  }
}

TEST(CliHostileAudio, ZeroHertzHeaderIsRefusedNamingTheFile) {
  const std::string path = write_wav("normal_id_00_00000002.wav", 0, 3200);
  const auto r = run_cli("score " + path);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(path + ": the header declares a sample rate of 0 Hz"), std::string::npos) << r.err;
}

TEST(CliHostileAudio, MaxSecondsLimitsClipsFromTheHeader) {
  const std::string path = write_wav("normal_id_00_00000003.wav", 16000, 3 * 32000);  // 3 s
  const std::string npy = test::temp_dir() + "/m.npy";
  auto r = run_cli("features --max-seconds 2 -o " + npy + " " + path);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(path + ": longer than the limit of 2 s"), std::string::npos) << r.err;
  r = run_cli("score --max-seconds 2 " + path);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(path + ": longer than the limit of 2 s"), std::string::npos) << r.err;
  EXPECT_EQ(run_cli("features --max-seconds 0 -o " + npy + " " + path).exit_code, 0);
  EXPECT_EQ(run_cli("score --max-seconds 3 " + path).exit_code, 0);
  // The default limit is an hour, documented in the help.
  EXPECT_NE(run_cli("score --help").out.find("3600"), std::string::npos);
}

TEST(CliOutput, WriteErrorOnStandardOutputFails) {
  const std::string clip = write_wav("normal_id_00_00000004.wav", 16000, 10 * 32000);
  for (const std::string& args : {"score " + clip, "score --format json " + clip, "score --format csv " + clip,
                                  std::string("inspect medium"), std::string("score --help"), std::string("--help")}) {
    const auto r = run_cli_to_full_disk(args);
    EXPECT_EQ(r.exit_code, 1) << args;
    // The reason is ENOSPC, or EIO when stdio met it in an earlier flush and kept no errno.
    EXPECT_NE(r.err.find("micronet-ad: error: write error on standard output: "), std::string::npos)
        << args << ": " << r.err;
  }
}

TEST(CliUsage, StreamWithoutInputIsAUsageError) {
  const auto r = run_cli("stream --machine-id 00");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("give '-' (stdin) or --device NAME"), std::string::npos) << r.err;
}

TEST(CliUsage, CalibrateQuantileAtItsEndsIsAUsageError) {
  for (const char* q : {"0", "1", "1.5"}) {
    const auto r =
        run_cli(std::string("calibrate -q ") + q + " -o " + test::temp_dir() + "/t.json " + test::temp_dir());
    EXPECT_EQ(r.exit_code, 2) << q << ": " << r.err;
    EXPECT_NE(r.err.find("strictly between 0 and 1"), std::string::npos) << r.err;
  }
}

TEST(CliModel, MistypedModelNameListsTheNames) {
  const auto s = run_cli("score --model mediun " + test::temp_dir() + "/x.wav");
  EXPECT_EQ(s.exit_code, 1);
  EXPECT_NE(s.err.find("mediun: cannot open"), std::string::npos) << s.err;
  EXPECT_NE(s.err.find("small, medium, large"), std::string::npos) << s.err;
}

TEST(CliModel, DegenerateWarningPointsToTheDefaultOnlyForOtherModels) {
  const std::string clip = write_wav("normal_id_00_00000005.wav", 16000, 10 * 32000);  // noise: degenerate
  const auto with_default = run_cli("score " + clip);
  ASSERT_EQ(with_default.exit_code, 0) << with_default.err;
  ASSERT_NE(with_default.err.find("degenerate"), std::string::npos) << with_default.err;
  EXPECT_EQ(with_default.err.find("ad_medium is the default"), std::string::npos) << with_default.err;
  const auto with_small = run_cli("score --model small " + clip);
  ASSERT_EQ(with_small.exit_code, 0) << with_small.err;
  EXPECT_NE(with_small.err.find("(ad_medium is the default model)"), std::string::npos) << with_small.err;
}

}  // namespace
}  // namespace micronet_ad
