// What a new user meets: output paths checked before the work, bad files left out and
// named, the same limits, defaults and options on every command, score's JSON shaped like the
// service's, an aligned table, warnings about audio unlike the training clips, progress only on
// a terminal, and bench/stream refusing values that mean nothing or cost without bound.
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "host/io/file.h"
#include "host/io/shared_data.h"
#include "support/cli.h"
#include "test_wav.h"

namespace micronet_ad {
namespace {

namespace fs = std::filesystem;
using test::run_cli;
using test::write_wav;

std::string slider(const std::string& relative) { return host::shared_path("data/dcase2020_task2/slider/" + relative); }
std::string fan(const std::string& relative) { return host::shared_path("data/mimii/fan/" + relative); }
const std::string kNormal = "test/normal_id_00_00000000.wav", kAnomaly = "test/anomaly_id_00_00000000.wav";

// A fresh directory under the test's temp dir.
std::string fresh_dir(const std::string& name) {
  const std::string dir = test::temp_dir() + "/" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// A path no command can write: its parent is a regular file.
std::string unwritable(const std::string& leaf) {
  const std::string blocker = test::temp_dir() + "/a_regular_file";
  host::write_file(blocker, "x", 1);
  return blocker + "/sub/" + leaf;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Item 1: every output path fails at once, with nothing scored (nothing on stdout).
TEST(CliOutputPaths, UnwritableOutputFailsBeforeAnyScoring) {
  const std::string clips = slider(kNormal) + " " + slider(kAnomaly);
  const std::string bad = unwritable("out");
  const std::vector<std::string> commands = {
      "score --report " + bad + " " + clips,
      "calibrate -q 0.5 -o " + bad + " " + clips,
      "eval --out " + bad + " " + slider(""),
      "eval --out " + fresh_dir("eval_ok") + " --report " + bad + " " + slider(""),
      "enrol --output " + bad + " " + fan("train/normal_id_00_00000000.wav") + " " +
          fan("train/normal_id_00_00000001.wav"),
  };
  for (const std::string& command : commands) {
    const auto r = run_cli(command);
    EXPECT_EQ(r.exit_code, 1) << command << "\n" << r.err;
    EXPECT_EQ(r.out, "") << command;  // before the fix: the scores or the metrics table, then the error
    EXPECT_EQ(count_of(r.err, "\n"), 1u) << command << "\n" << r.err;
    EXPECT_NE(r.err.find("micronet-ad: error: " + bad), std::string::npos) << command << "\n" << r.err;
    EXPECT_NE(r.err.find("Not a directory"), std::string::npos) << command << "\n" << r.err;
  }
  // A writable path that did not exist is not left behind by the check when the run fails later.
  const std::string thresholds = test::temp_dir() + "/never_written.json";
  const auto r = run_cli("calibrate -q 0.5 -o " + thresholds + " " + test::temp_dir() + "/missing.wav");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_FALSE(fs::exists(thresholds));
}

// Item 2: a bad file is named and left out; the others are scored; the exit code says so.
TEST(CliBadFiles, BadFilesAreLeftOutAndCounted) {
  const std::string tree = fresh_dir("bad_tree") + "/slider/test";
  fs::create_directories(tree);
  fs::copy_file(slider(kNormal), tree + "/normal_id_00_00000000.wav");
  fs::copy_file(slider(kAnomaly), tree + "/anomaly_id_00_00000000.wav");
  host::write_file(tree + "/normal_id_00_00000099.wav", "not audio", 9);
  const auto eval = run_cli("eval --out " + fresh_dir("bad_out") + " " + tree);
  EXPECT_EQ(eval.exit_code, 1) << eval.err;
  EXPECT_NE(eval.err.find(tree + "/normal_id_00_00000099.wav: cannot decode as audio"), std::string::npos) << eval.err;
  EXPECT_NE(eval.err.find("1 of 3 test clips could not be scored; the metrics leave them out"), std::string::npos)
      << eval.err;
  // The good pair is still evaluated: 1 normal, 1 anomaly, AUC 1.
  EXPECT_NE(eval.out.find("id_00          1        1   1.000000   1.000000"), std::string::npos) << eval.out;

  const auto score =
      run_cli("score " + slider(kNormal) + " " + test::temp_dir() + "/missing_id_00_1.wav " + slider(kAnomaly));
  EXPECT_EQ(score.exit_code, 1);
  EXPECT_EQ(lines_of(score.out).size(), 3u) << score.out;  // header and both good clips
  EXPECT_EQ(count_of(score.err, "missing_id_00_1.wav"), 1u) << score.err;
  // The exit code is documented where users look.
  EXPECT_NE(run_cli("score --help").out.find("Exit codes: 0"), std::string::npos);
  EXPECT_NE(run_cli("eval --help").out.find("Exit codes: 0"), std::string::npos);
}

// Item 3: --max-seconds on enrol and inspect --probe, as on score.
TEST(CliLimits, MaxSecondsOnEnrolAndProbe) {
  const std::string a = write_wav("normal_id_00_00000031.wav", 16000, 3 * 32000);  // 3 s each
  const std::string b = write_wav("normal_id_00_00000032.wav", 16000, 3 * 32000);
  const std::string profile = test::temp_dir() + "/limit.mnprof";
  auto r = run_cli("enrol --max-seconds 2 -o " + profile + " " + a + " " + b);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(a + ": longer than the limit of 2 s"), std::string::npos) << r.err;
  r = run_cli("inspect --max-seconds 2 --probe " + a);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(a + ": longer than the limit of 2 s"), std::string::npos) << r.err;
  EXPECT_EQ(run_cli("inspect --max-seconds 3 --probe " + a).exit_code, 0);
  for (const char* command : {"enrol --help", "inspect --help"}) {
    EXPECT_NE(run_cli(command).out.find("--max-seconds FLOAT:NONNEGATIVE=3600"), std::string::npos) << command;
  }
}

// Item 4: infer runs the default model like every other command.
TEST(CliDefaults, InferDefaultsToTheEmbeddedModel) {
  const std::string ifm = host::shared_path("golden/engine/ad_medium_mlzoo_ifm0.npy");
  const std::string with = test::temp_dir() + "/with.npy", without = test::temp_dir() + "/without.npy";
  ASSERT_EQ(run_cli("infer --model medium --input " + ifm + " --output " + with).exit_code, 0);
  const auto r = run_cli("infer --input " + ifm + " --output " + without);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(host::read_file(without), host::read_file(with));
}

// Item 5: shapes in inspect --json are integer arrays, the same numbers the table prints.
TEST(CliInspect, JsonShapesAreIntegerArrays) {
  const auto r = run_cli("inspect --json medium");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["input"]["shape"], nlohmann::json({1, 32, 32, 1}));
  const std::string table = run_cli("inspect medium").out;
  auto text = [](const nlohmann::json& dims) {
    std::string s = "[";
    for (const auto& d : dims) s += (s.size() > 1 ? "," : "") + std::to_string(d.get<long long>());
    return s + "]";
  };
  EXPECT_NE(table.find("output tensor " + std::to_string(j["output"]["tensor"].get<int>()) + " " +
                       text(j["output"]["shape"])),
            std::string::npos)
      << table;
  ASSERT_FALSE(j["operators"].empty());
  for (const auto& op : j["operators"]) {
    for (const char* key : {"input", "output"}) {
      ASSERT_TRUE(op[key].is_array()) << op;
      for (const auto& d : op[key]) EXPECT_TRUE(d.is_number_integer()) << op;
      EXPECT_NE(table.find(text(op[key])), std::string::npos) << op;
    }
  }
  EXPECT_EQ(j["operators"].front()["input"], j["input"]["shape"]);
}

// Item 6: score's clip JSON has the service's seconds, threshold, score_kind and decision.
TEST(CliScoreJson, HasTheServicesVerdictFields) {
  // Calibrated on the normal clip alone (the anomaly is dropped): the threshold is its score.
  const std::string thresholds = test::temp_dir() + "/one.json";
  const std::string clips = slider(kNormal) + " " + slider(kAnomaly);
  ASSERT_EQ(run_cli("calibrate -q 0.5 -o " + thresholds + " " + clips).exit_code, 0);
  const auto r = run_cli("score --format json --thresholds " + thresholds + " " + clips);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out)["clips"];
  ASSERT_EQ(j.size(), 2u);
  const double normal_score = j[0]["score"];
  for (const auto& clip : j) {
    EXPECT_DOUBLE_EQ(clip["seconds"].get<double>(), 10.0) << clip["path"];  // DCASE clips: 160,000 samples
    EXPECT_NEAR(clip["threshold"].get<double>(), normal_score, 1e-12);
    EXPECT_EQ(clip["score_kind"], "neg_softmax");
  }
  EXPECT_EQ(j[0]["decision"], "normal");     // at the threshold is not above it
  EXPECT_EQ(j[1]["decision"], "anomalous");  // -0.10 > -0.92
  // Without a threshold: seconds, no judgement.
  const auto plain = nlohmann::json::parse(run_cli("score --format json " + slider(kNormal)).out)["clips"][0];
  EXPECT_DOUBLE_EQ(plain["seconds"].get<double>(), 10.0);
  EXPECT_FALSE(plain.contains("threshold"));
  EXPECT_FALSE(plain.contains("decision"));
}

// Item 7: a long path does not push the other columns out of line.
TEST(CliScoreTable, ColumnsStayAlignedWithLongPaths) {
  const std::string dir = fresh_dir(std::string(90, 'd'));
  fs::copy_file(slider(kNormal), dir + "/normal_id_00_00000000.wav");
  const auto r = run_cli("score " + slider(kAnomaly) + " " + dir + "/normal_id_00_00000000.wav");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  // Every column after the path is right-aligned, so aligned rows have one length.
  for (const std::string& line : lines) EXPECT_EQ(line.size(), lines[0].size()) << r.out;
}

// Item 8: --kernels on the scoring commands; reference kernels give the same bytes.
TEST(CliKernels, ReferenceKernelsScoreTheSame) {
  const std::string clips = slider(kNormal) + " " + slider(kAnomaly);
  const auto fast = run_cli("score --format json --kernels auto " + clips);
  const auto reference = run_cli("score --format json --kernels reference " + clips);
  ASSERT_EQ(fast.exit_code, 0) << fast.err;
  ASSERT_EQ(reference.exit_code, 0) << reference.err;
  EXPECT_EQ(reference.out, fast.out);
  for (const char* command : {"score", "eval", "calibrate", "enrol", "infer", "bench"}) {
    EXPECT_NE(run_cli(std::string(command) + " --help").out.find("--kernels"), std::string::npos) << command;
  }
  EXPECT_EQ(run_cli("score --kernels fastest " + clips).exit_code, 2);
}

// Item 9: help shows defaults.
TEST(CliHelp, ShowsDefaults) {
  const std::string help = run_cli("score --help").out;
  EXPECT_NE(help.find("--format TEXT:{table,csv,json}=table"), std::string::npos) << help;
  EXPECT_NE(help.find("=0"), std::string::npos) << help;
  EXPECT_NE(help.find("Worker threads (0: one per core)"), std::string::npos) << help;
  EXPECT_NE(help.find("--framing TEXT:{centered,kit}=centered"), std::string::npos) << help;
  EXPECT_NE(run_cli("eval --help").out.find("=result"), std::string::npos);
  EXPECT_NE(run_cli("calibrate --help").out.find("=empirical"), std::string::npos);
}

// Item 10: bench refuses --iterations 0 and reports no negative time and no foreign peak: only
// this core's, measured in the run, for a level that has one.
TEST(CliBench, RefusesZeroIterationsAndNegativeTimes) {
  const auto zero = run_cli("bench --iterations 0 --no-clip");
  EXPECT_EQ(zero.exit_code, 2);
  EXPECT_NE(zero.err.find("--iterations"), std::string::npos) << zero.err;
  const auto r = run_cli("bench --json --iterations 3 --clip-runs 3 --scaling-clips 1 --clip " + slider(kNormal));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_FALSE(j.contains("fraction_of_peak"));
  const auto& clip = j["clip"];
  EXPECT_GE(clip["other_ms"].get<double>(), 0.0);
  // The stages and the rest add up to the whole.
  EXPECT_LE(
      clip["decode_ms"].get<double>() + clip["frontend_ms"].get<double>() + clip["inference_ms"].get<double>() +
          clip["other_ms"].get<double>(),
      std::max(clip["median_ms"].get<double>(), clip["decode_ms"].get<double>() + clip["frontend_ms"].get<double>() +
                                                    clip["inference_ms"].get<double>()) +
          1e-9);
  // The peak is this core's, measured in the run, with the instruction of the level that ran.
  const std::string kernels = j["kernels"].get<std::string>();
  if (kernels == "avx2" || kernels == "avx512vnni") {
    EXPECT_EQ(j["peak_instruction"].get<std::string>(), kernels == "avx2" ? "vpmaddwd ymm" : "vpdpbusd zmm");
    EXPECT_GT(j["peak_macs_per_second"].get<double>(), 1e9);
    EXPECT_NE(run_cli("bench --no-clip --iterations 3").out.find("peak ("), std::string::npos);
  }
  const auto reference = run_cli("bench --json --kernels reference --no-clip --iterations 3");
  ASSERT_EQ(reference.exit_code, 0) << reference.err;
  EXPECT_FALSE(nlohmann::json::parse(reference.out).contains("peak_macs_per_second"));
  EXPECT_EQ(run_cli("bench --kernels reference --no-clip --iterations 3").out.find("peak"), std::string::npos);
}

// Item 11: stream refuses rates below the floor audio files have.
TEST(CliStream, RateBelowTheFloorIsAUsageError) {
  for (const char* rate : {"1", "999"}) {
    const auto r = run_cli(std::string("stream - --machine-id 00 --rate ") + rate);
    EXPECT_EQ(r.exit_code, 2) << rate;
    EXPECT_NE(r.err.find("--rate: Value " + std::string(rate) + " not in range 1000 to 768000"), std::string::npos)
        << r.err;
  }
  // At the floor: 5 s of silence, resampled to 16 kHz.
  const std::string pcm = test::temp_dir() + "/silence.s16", out = test::temp_dir() + "/stream.out";
  const std::string silence(5 * 1000 * 2, '\0');
  host::write_file(pcm, silence.data(), silence.size());
  const std::string command =
      test::cli_path() + " stream - --machine-id 00 --rate 1000 <" + pcm + " >" + out + " 2>/dev/null";
  ASSERT_EQ(std::system(command.c_str()), 0);
  const std::vector<std::string> lines = lines_of(test::slurp(out));
  ASSERT_FALSE(lines.empty());
  const auto summary = nlohmann::json::parse(lines.back());
  EXPECT_EQ(summary["source_rate"], 1000);
  EXPECT_DOUBLE_EQ(summary["seconds"].get<double>(), 5.0);
}

// Item 12: audio unlike the training clips is warned about, once per run.
TEST(CliWarnings, LowRateAndShortClips) {
  const std::string low1 = write_wav("normal_id_00_00000041.wav", 8000, 10 * 16000);  // 10 s at 8 kHz
  const std::string low2 = write_wav("normal_id_00_00000042.wav", 8000, 10 * 16000);
  const std::string full = write_wav("normal_id_00_00000043.wav", 16000, 10 * 32000);
  const std::string brief = write_wav("normal_id_00_00000044.wav", 16000, 16000);  // 0.5 s
  auto r = run_cli("score " + low1 + " " + low2 + " " + full);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count_of(r.err, "sampled below"), 1u) << r.err;
  EXPECT_NE(r.err.find("2 clip(s) sampled below 16000 Hz (e.g. " + low1 + " at 8000 Hz)"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("shorter than"), std::string::npos) << r.err;
  r = run_cli("score " + full + " " + brief);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("sampled below"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("1 clip(s) shorter than 2 s (e.g. " + brief + ": 0.50 s, 1 window(s) scored"), std::string::npos)
      << r.err;
  // eval and calibrate share it.
  r = run_cli("calibrate -q 0.5 -o " + test::temp_dir() + "/w.json " + low1 + " " + full);
  EXPECT_NE(r.err.find("1 clip(s) sampled below 16000 Hz"), std::string::npos) << r.err;
}

// Item 13: a progress bar on a terminal, none when stderr is piped.
TEST(CliProgress, OnlyOnATerminal) {
  const std::string clips = slider(kNormal) + " " + slider(kAnomaly) + " " + slider(kNormal);
  const auto piped = run_cli("score " + clips);
  ASSERT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_EQ(piped.err.find('\r'), std::string::npos);
  EXPECT_EQ(piped.err.find("clips\033"), std::string::npos);
  if (std::system("command -v script >/dev/null 2>&1") != 0) GTEST_SKIP() << "no script(1) for a pseudo-terminal";
  // script(1) runs the command on a pseudo-terminal and copies what it shows to our file.
  const std::string shown = test::temp_dir() + "/tty.txt";
  const std::string command = "script -qec \"" + test::cli_path() + " score " + clips + " >/dev/null\" /dev/null >" +
                              shown + " 2>&1 </dev/null";
  ASSERT_EQ(std::system(command.c_str()), 0);
  const std::string tty = test::slurp(shown);
  EXPECT_NE(tty.find("] 1/3 clips"), std::string::npos) << tty;
  EXPECT_NE(tty.find("] 3/3 clips\r\033[K"), std::string::npos) << tty;  // erased when done
}

// A long clip shows its own progress on a terminal (it is scored in one-minute chunks then), and
// its scores are the same bytes as when it is pushed whole (piped: no progress, no chunks).
TEST(CliProgress, ALongClipShowsProgressWithinItAndScoresTheSame) {
  const std::string clip = write_wav("long150s.wav", 16000, 16000 * 2 * 150);  // 150 s of noise
  const auto piped = run_cli("score --format json --machine-id 00 " + clip);
  ASSERT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_EQ(piped.err.find('\r'), std::string::npos);
  if (std::system("command -v script >/dev/null 2>&1") != 0) GTEST_SKIP() << "no script(1) for a pseudo-terminal";
  const std::string shown = test::temp_dir() + "/tty_long.txt", out = test::temp_dir() + "/tty_long.json";
  const std::string command = "script -qec \"" + test::cli_path() + " score --format json --machine-id 00 " + clip +
                              " >" + out + "\" /dev/null >" + shown + " 2>&1 </dev/null";
  ASSERT_EQ(std::system(command.c_str()), 0);
  const std::string tty = test::slurp(shown);
  EXPECT_NE(tty.find("] 0/1 clips, clip 1 at 40 %"), std::string::npos) << tty;  // after 60 of 150 s
  EXPECT_NE(tty.find("] 0/1 clips, clip 1 at 80 %"), std::string::npos) << tty;
  // The last bar drawn is erased before anything else is printed.
  const std::string last_bar = "clip 1 at 80 %";
  const std::size_t last = tty.rfind(last_bar);
  ASSERT_NE(last, std::string::npos);
  EXPECT_EQ(tty.compare(last + last_bar.size(), 4, "\r\033[K"), 0) << tty;
  EXPECT_EQ(test::slurp(out), piped.out);
}

}  // namespace
}  // namespace micronet_ad
