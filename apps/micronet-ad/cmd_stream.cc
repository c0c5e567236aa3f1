// The input goes through host::StreamScorer (the core Detector fed as samples arrive), so memory
// stays constant however long the stream runs. Every line's decision is the running clip score's,
// judged in one place (LinePrinter).
#include "cmd_stream.h"

#include <unistd.h>

#include <csignal>
#include <memory>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "host/audio/audio_file.h"
#include "host/detect/clip_json.h"
#include "host/detect/clip_scorer.h"
#include "host/io/default_model.h"
#include "host/stream/stop_signal.h"
#include "host/stream/stream_scorer.h"

namespace micronet_ad::cli {
namespace {

// Exactly one input: '-' (stdin) or --device. A usage error (exit 2), like the options CLI11
// checks itself.
void check_input(const StreamOptions& options) {
  const bool from_stdin = options.input == "-" && options.device.empty();
  const bool from_device = options.input.empty() && !options.device.empty();
  if (!from_stdin && !from_device) throw CLI::ValidationError("INPUT", "give '-' (stdin) or --device NAME");
}

// What a stream scores with: the model, how it judges, and the scorer's options (whose profile
// points into scoring.profiles).
struct StreamSetup {
  std::unique_ptr<host::ModelFile> file;
  Scoring scoring;
  host::StreamOptions scorer;
};

// Loads and checks everything before the first sample is read: a machine without a profile or a
// threshold fails here, not after minutes of audio.
StreamSetup prepare_stream(const StreamOptions& options) {
  StreamSetup setup;
  setup.file = host::load_default_model(options.model);
  setup.scoring = load_scoring(options.scoring, *setup.file, options.mode.framing, options.mode.resize);
  host::StreamOptions& scorer = setup.scorer;
  scorer.framing = options.mode.framing;
  scorer.resize = options.mode.resize;
  scorer.kernels = options.kernels;
  scorer.max_seconds = options.max_seconds;
  scorer.input_digest = options.input_digest;
  if (setup.scoring.profiles)
    scorer.profile = &setup.scoring.profiles->for_clip("--machine-id", options.machine_id).profile();
  scorer.output_index = host::clip_output_index("--machine-id", options.machine_id, scorer.profile != nullptr);
  setup.scoring.judge.threshold(scorer.output_index, scorer.profile);  // throws for a machine without one
  return setup;
}

// Stdin or the ALSA device, either waking up for SIGINT/SIGTERM.
std::unique_ptr<host::PcmSource> open_source(const StreamOptions& options) {
  host::install_stop_signal_handlers();
  if (options.device.empty()) return host::open_fd_source(STDIN_FILENO, options.pcm, "stdin", host::stop_signal_fd());
  return host::open_alsa_source(options.device, options.pcm, host::stop_signal_fd());
}

// The window and summary lines, each flushed as soon as it is printed: the point of streaming is
// that nobody waits for a buffer.
class LinePrinter {
 public:
  LinePrinter(std::FILE* out, const StreamSetup& setup) : out_(out), setup_(setup), kind_(setup.scoring.method()) {}

  void window(const host::WindowEvent& e) const {
    nlohmann::ordered_json j = {{"type", "window"},
                                {"window", e.index},
                                {"start_s", e.start_seconds},
                                {"end_s", e.end_seconds},
                                {"score", e.score[kind_]},
                                {"nll", e.score[ScoreMethod::kNll]},
                                {"clip_score", e.running[kind_]},
                                {"clip_nll", e.running[ScoreMethod::kNll]},
                                {"windows", e.running.windows},
                                {"latency_ms", e.latency_ms}};
    add_decision(&j, e.running);
    if (setup_.scorer.input_digest) j["input_sha1"] = e.input_sha1;
    print(j);
  }

  void summary(const host::StreamSummary& s, const host::PcmSource& source) const {
    nlohmann::ordered_json j = {{"type", "summary"},
                                {"end", to_string(s.end)},
                                {"machine_id", machine_id_text(setup_.scorer.output_index)},
                                {"source", source.name()},
                                {"source_rate", source.format().rate},
                                {"source_frames", s.source_frames},
                                {"seconds", static_cast<double>(s.samples) / kSampleRateHz},
                                {"windows", s.clip.windows},
                                {"score_method", score_method_name(kind_)},
                                {"clip_score", s.clip[kind_]},
                                {"clip_nll", s.clip[ScoreMethod::kNll]},
                                {"predicted_machine_id", machine_id_text(s.clip.predicted_output)},
                                {"degenerate", s.clip.degenerate()},
                                {"latency_ms", latency_json(s.latency)},
                                {"dropped_bytes", s.dropped_bytes},
                                {"overruns", s.overruns}};
    if (setup_.scorer.profile) j["profile"] = setup_.scorer.profile->header().name;
    add_decision(&j, s.clip);
    print(j);
  }

 private:
  static nlohmann::ordered_json latency_json(const host::LatencyHistogram& latency) {
    return {{"p50", latency.percentile(0.5)},
            {"p99", latency.percentile(0.99)},
            {"max", latency.max()},
            {"mean", latency.mean()}};
  }

  void add_decision(nlohmann::ordered_json* j, const ClipScore& clip) const {
    const host::StreamOptions& s = setup_.scorer;
    host::add_decision_json(j, setup_.scoring.judge.judge(clip, s.output_index, s.profile), kind_);
  }

  void print(const nlohmann::ordered_json& j) const {
    if (!print_json_line(out_, j)) throw std::runtime_error("cannot write the results (output closed?)");
  }

  std::FILE* out_;
  const StreamSetup& setup_;
  ScoreMethod kind_;
};

}  // namespace

int run_stream(const StreamOptions& options, std::FILE* out) {
  check_input(options);
  const StreamSetup setup = prepare_stream(options);
  std::signal(SIGPIPE, SIG_IGN);  // a closed output is an error to report, not a silent death
  const auto source = open_source(options);
  const LinePrinter printer(out, setup);
  host::StreamScorer scorer(setup.file->model, setup.scorer);
  const host::StreamSummary summary = scorer.run(
      *source, [] { return host::stop_signal_received() != 0; },
      [&](const host::WindowEvent& e) { printer.window(e); });
  printer.summary(summary, *source);
  if (summary.dropped_bytes > 0) {
    std::fprintf(stderr,
                 "micronet-ad: warning: %s: the input ended inside a frame; its last %zu byte(s) were dropped\n",
                 source->name().c_str(), summary.dropped_bytes);
  }
  return 0;
}

CLI::App* add_stream_options(CLI::App& app, StreamOptions* options) {
  auto* cmd = app.add_subcommand("stream", "Score live raw PCM (stdin or an ALSA device), one JSON line per window");
  add_model_option(cmd, &options->model);
  cmd->add_option("--machine-id", options->machine_id,
                  "Machine of the stream: a model ID (00, 02, 04, 06) or, with --profile DIR, a profile name")
      ->required();
  // The same floor as for audio files: a rate of a few Hz would make the resampler's output, and
  // its buffers, thousands of times larger than its input.
  cmd->add_option("--rate", options->pcm.rate, "Input sample rate in Hz, 1000 to 768000 (resampled to 16 kHz)")
      ->capture_default_str()
      ->check(CLI::Range(host::kMinSourceRateHz, 768000));
  cmd->add_option("--channels", options->pcm.channels, "Interleaved input channels (averaged)")
      ->capture_default_str()
      ->check(CLI::Range(1, 32));
  cmd->add_option_function<std::string>(
         "--format", [options](const std::string& v) { host::parse_sample_format(v, &options->pcm.format); },
         "Sample format (little-endian)")
      ->default_str("s16le")
      ->check(CLI::IsMember({"s16le", "f32le"}));
  add_scoring_options(cmd, &options->scoring);
  add_mode_options(cmd, &options->mode);
  add_kernels_option(cmd, &options->kernels);
  cmd->add_option("--max-seconds", options->max_seconds,
                  "Stop after this many seconds of input (default: until it ends)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--input-digest", options->input_digest, "Add the SHA-1 of each window's int8 model input");
  auto* in = cmd->add_option("INPUT", options->input, "'-' reads raw PCM from stdin")->check(CLI::IsMember({"-"}));
  auto* dev = cmd->add_option("--device", options->device, "Capture from this ALSA device (e.g. default, hw:0, null)");
  in->excludes(dev);
  return cmd;
}

void add_stream_command(CLI::App& app, int* exit_code) {
  static StreamOptions options;
  add_stream_options(app, &options)->callback([exit_code] { *exit_code = run_stream(options, stdout); });
}

}  // namespace micronet_ad::cli
