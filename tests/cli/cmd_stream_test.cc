// The stream command as a function (no subprocess): its flags parse into StreamOptions, and
// run_stream on a DCASE clip fed as raw PCM through stdin prints, window by window and in the
// summary, what ClipScorer computes for the same samples; decisions follow the thresholds file;
// bad inputs are refused before any audio is read.
#include "cmd_stream.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/cmd_support.h"
#include "host/audio/audio_file.h"
#include "host/detect/clip_scorer.h"
#include "host/io/file.h"
#include "host/io/model_file.h"
#include "support/test_data.h"

namespace micronet_ad {
namespace {

using nlohmann::json;

std::string slider_test(const std::string& name) {
  return host::shared_path("data/dcase2020_task2/slider/test/" + name);
}

// Stdin reads `path` while this lives (run_stream's INPUT '-'), then what it read before.
class StdinFrom {
 public:
  explicit StdinFrom(const std::string& path) : saved_(::dup(STDIN_FILENO)) {
    const int fd = ::open(path.c_str(), O_RDONLY);
    EXPECT_GE(fd, 0) << path;
    ::dup2(fd, STDIN_FILENO);
    ::close(fd);
  }
  ~StdinFrom() {
    if (saved_ >= 0) {
      ::dup2(saved_, STDIN_FILENO);
      ::close(saved_);
    } else {
      ::close(STDIN_FILENO);
    }
  }

 private:
  int saved_;
};

// The clip's samples as raw s16le (the WAV's own 16-bit values: load_audio gives x/32768).
void write_raw_s16le(const std::string& path, const std::vector<float>& samples) {
  std::vector<std::uint8_t> bytes;
  for (float s : samples) {
    const auto v = static_cast<std::uint16_t>(static_cast<std::int16_t>(std::lround(s * 32768.0f)));
    bytes.push_back(static_cast<std::uint8_t>(v & 0xff));
    bytes.push_back(static_cast<std::uint8_t>(v >> 8));
  }
  host::write_file(path, bytes.data(), bytes.size());
}

cli::StreamOptions stdin_options() {
  cli::StreamOptions options;
  options.input = "-";
  options.machine_id = "00";
  options.model = test::model_path("medium");
  return options;
}

// run_stream's lines, split into the window lines and the summary.
struct StreamLines {
  std::vector<json> windows;
  json summary;
};

StreamLines run_on(const cli::StreamOptions& options, const std::string& raw_path) {
  StdinFrom stdin_from(raw_path);
  const test::Printed printed = test::printed_by([&](std::FILE* out) { return cli::run_stream(options, out); });
  EXPECT_EQ(printed.exit_code, 0);
  StreamLines lines;
  for (const std::string& line : test::lines_of(printed.out)) {
    json j = json::parse(line);  // one document per line
    if (j["type"] == "window") {
      lines.windows.push_back(j);
    } else {
      EXPECT_TRUE(lines.summary.is_null()) << "a second summary: " << line;
      lines.summary = j;
    }
  }
  return lines;
}

TEST(CmdStream, FlagsParseIntoTheOptions) {
  CLI::App app;
  cli::StreamOptions options;
  cli::add_stream_options(app, &options);
  test::parse_args(app, {"stream",         "-",         "--machine-id", "02",        "--rate",        "48000",
                         "--channels",     "2",         "--format",     "f32le",     "--max-seconds", "3.5",
                         "--input-digest", "--kernels", "reference",    "--framing", "kit",           "--thresholds",
                         "t.json",         "--model",   "small"});
  EXPECT_EQ(options.input, "-");
  EXPECT_EQ(options.device, "");
  EXPECT_EQ(options.machine_id, "02");
  EXPECT_EQ(options.pcm.rate, 48000);
  EXPECT_EQ(options.pcm.channels, 2);
  EXPECT_EQ(options.pcm.format, host::SampleFormat::kF32Le);
  EXPECT_EQ(options.max_seconds, 3.5);
  EXPECT_TRUE(options.input_digest);
  EXPECT_EQ(options.kernels, KernelSet::kReference);
  EXPECT_EQ(options.mode.framing, Framing::kKit);
  EXPECT_EQ(options.scoring.thresholds, "t.json");
  EXPECT_EQ(options.model, "small");

  CLI::App defaults;
  cli::StreamOptions device;
  cli::add_stream_options(defaults, &device);
  test::parse_args(defaults, {"stream", "--device", "hw:0", "--machine-id", "00"});
  EXPECT_EQ(device.device, "hw:0");
  EXPECT_EQ(device.input, "");
  EXPECT_EQ(device.pcm.rate, 16000);
  EXPECT_EQ(device.pcm.channels, 1);
  EXPECT_EQ(device.pcm.format, host::SampleFormat::kS16Le);
  EXPECT_FALSE(device.input_digest);
}

TEST(CmdStream, UsageErrorsAreRefusedByTheParser) {
  auto refused = [](const std::vector<std::string>& args) {
    CLI::App app;
    cli::StreamOptions options;
    cli::add_stream_options(app, &options);
    EXPECT_THROW(test::parse_args(app, args), CLI::ParseError) << args.back();
  };
  refused({"stream", "-", "--machine-id", "00", "--rate", "999"});  // below the floor of audio files
  refused({"stream", "-", "--machine-id", "00", "--channels", "33"});
  refused({"stream", "-", "--machine-id", "00", "--format", "s24le"});
  refused({"stream", "-", "--device", "null", "--machine-id", "00"});  // one input, not two
  refused({"stream", "clip.wav", "--machine-id", "00"});               // INPUT is '-' only
  refused({"stream", "-"});                                            // --machine-id is required
}

TEST(CmdStream, WindowsAndSummaryCarryWhatClipScorerComputes) {
  const test::ScratchDir dir("cmd_stream_test_windows");
  const std::string clip = slider_test("anomaly_id_00_00000000.wav");
  const host::Audio audio = host::load_audio(clip);
  ASSERT_EQ(audio.source_rate, 16000);
  write_raw_s16le((dir / "clip.s16"), audio.samples);

  const auto model = host::load_model_file(test::model_path("medium"));
  host::ClipScorer scorer(model->model, Framing::kCentered, Resize::kAverage, KernelSet::kReference);
  const host::ClipResult expected = scorer.score(audio.samples, 0);
  const std::vector<double> softmax = expected.window_scores_of(ScoreMethod::kNegSoftmax);
  const std::vector<double> nll = expected.window_scores_of(ScoreMethod::kNll);

  const StreamLines lines = run_on(stdin_options(), (dir / "clip.s16"));
  ASSERT_EQ(lines.windows.size(), softmax.size());
  ASSERT_GE(softmax.size(), 2u);
  double running = 0.0;
  for (std::size_t k = 0; k < softmax.size(); ++k) {
    const json& w = lines.windows[k];
    running += softmax[k];
    EXPECT_EQ(w.at("window").get<int>(), static_cast<int>(k));
    EXPECT_DOUBLE_EQ(w.at("score").get<double>(), softmax[k]) << "window " << k;
    EXPECT_DOUBLE_EQ(w.at("nll").get<double>(), nll[k]) << "window " << k;
    EXPECT_NEAR(w.at("clip_score").get<double>(), running / static_cast<double>(k + 1), 1e-12) << "window " << k;
    EXPECT_EQ(w.at("windows").get<int>(), static_cast<int>(k + 1));
    EXPECT_FALSE(w.contains("decision"));  // no thresholds
    EXPECT_FALSE(w.contains("input_sha1"));
  }
  const json& s = lines.summary;
  ASSERT_FALSE(s.is_null());
  EXPECT_EQ(s.at("end"), "end_of_input");
  EXPECT_EQ(s.at("machine_id"), "00");
  EXPECT_EQ(s.at("source"), "stdin");
  EXPECT_EQ(s.at("source_frames").get<std::size_t>(), audio.samples.size());
  EXPECT_EQ(s.at("windows").get<long long>(), expected.clip.windows);
  EXPECT_EQ(s.at("score_method"), "neg_softmax");
  EXPECT_DOUBLE_EQ(s.at("clip_score").get<double>(), expected.clip[ScoreMethod::kNegSoftmax]);
  EXPECT_DOUBLE_EQ(s.at("clip_nll").get<double>(), expected.clip[ScoreMethod::kNll]);
  EXPECT_EQ(s.at("predicted_machine_id"), machine_id_of_output(expected.clip.predicted_output));
  EXPECT_EQ(s.at("dropped_bytes"), 0);
}

TEST(CmdStream, DecisionsFollowTheThresholdsFileAndMaxSecondsStopsEarly) {
  const test::ScratchDir dir("cmd_stream_test_decisions");
  const std::string clip = slider_test("normal_id_00_00000000.wav");
  const host::Audio audio = host::load_audio(clip);
  write_raw_s16le((dir / "clip.s16"), audio.samples);
  cli::StreamOptions options = stdin_options();
  options.max_seconds = 4.0;
  options.input_digest = true;

  // The clip's score over its first 4 s, computed here; a threshold just below it.
  const auto model = host::load_model_file(options.model);
  host::ClipScorer scorer(model->model, Framing::kCentered, Resize::kAverage, KernelSet::kReference);
  const std::vector<float> first(audio.samples.begin(), audio.samples.begin() + 4 * 16000);
  const double score = scorer.score(first, 0).clip[ScoreMethod::kNegSoftmax];
  const double threshold = score - 1e-9;
  test::write_thresholds_for((dir / "t.json"), options.model, {{"id_00", threshold}});
  options.scoring.thresholds = (dir / "t.json");

  const StreamLines lines = run_on(options, (dir / "clip.s16"));
  ASSERT_FALSE(lines.windows.empty());
  for (const json& w : lines.windows) {
    EXPECT_EQ(w.at("threshold").get<double>(), threshold);
    EXPECT_EQ(w.at("decision"), w.at("clip_score").get<double>() > threshold ? "anomalous" : "normal");
    EXPECT_EQ(w.at("input_sha1").get<std::string>().size(), 40u);
  }
  EXPECT_EQ(lines.summary.at("end"), "max_seconds");
  EXPECT_EQ(lines.summary.at("source_frames").get<int>(), 4 * 16000);
  EXPECT_DOUBLE_EQ(lines.summary.at("clip_score").get<double>(), score);
  EXPECT_EQ(lines.summary.at("decision"), "anomalous");
  EXPECT_EQ(lines.summary.at("score_kind"), "neg_softmax");
}

// Refusals happen before the input is touched: nothing is printed.
TEST(CmdStream, BadSetupsFailBeforeStreaming) {
  const test::ScratchDir dir("cmd_stream_test_refusals");
  auto message_of = [](const cli::StreamOptions& options) -> std::string {
    try {
      const test::Printed printed = test::printed_by([&](std::FILE* out) { return cli::run_stream(options, out); });
      ADD_FAILURE() << "ran: " << printed.out;
    } catch (const std::exception& e) {
      return e.what();
    }
    return "";
  };
  cli::StreamOptions no_input = stdin_options();
  no_input.input.clear();
  EXPECT_THROW(cli::run_stream(no_input, stdout), CLI::ValidationError);
  EXPECT_NE(message_of(no_input).find("give '-' (stdin) or --device NAME"), std::string::npos);

  cli::StreamOptions unknown = stdin_options();
  unknown.machine_id = "07";
  EXPECT_NE(message_of(unknown).find("'07' is unknown"), std::string::npos) << message_of(unknown);

  // A thresholds file without the stream's machine: named, with the machines it has.
  cli::StreamOptions other_machine = stdin_options();
  test::write_thresholds_for((dir / "t02.json"), other_machine.model, {{"id_02", 0.5}});
  other_machine.scoring.thresholds = (dir / "t02.json");
  const std::string missing = message_of(other_machine);
  EXPECT_NE(missing.find((dir / "t02.json")), std::string::npos) << missing;
  EXPECT_NE(missing.find("id_00"), std::string::npos) << missing;

  cli::StreamOptions no_device = stdin_options();
  no_device.input.clear();
  no_device.device = "micronet_ad_no_such_device";
  EXPECT_NE(message_of(no_device).find("cannot open ALSA device 'micronet_ad_no_such_device'"), std::string::npos);
}

TEST(CmdStream, AClosedOutputStopsTheStream) {
  const test::ScratchDir dir("cmd_stream_test_closed");
  write_raw_s16le((dir / "clip.s16"), host::load_audio(slider_test("normal_id_00_00000000.wav")).samples);
  std::FILE* full = std::fopen("/dev/full", "w");
  ASSERT_NE(full, nullptr);
  StdinFrom stdin_from((dir / "clip.s16"));
  try {
    cli::run_stream(stdin_options(), full);
    ADD_FAILURE() << "wrote to /dev/full";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot write the results"), std::string::npos) << e.what();
  }
  std::fclose(full);
}

}  // namespace
}  // namespace micronet_ad
