// micronet-ad stream (-|--device NAME) --machine-id ID: live scoring of raw PCM, one JSON line per
// window as soon as it is complete and a summary line at the end (end of input, SIGINT/SIGTERM or
// --max-seconds). Memory stays constant however long the stream runs.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "common_options.h"
#include "host/audio/audio_file.h"
#include "host/detect/clip_json.h"
#include "host/detect/clip_scorer.h"
#include "host/eval/thresholds.h"
#include "host/io/default_model.h"
#include "host/io/file.h"
#include "host/io/model_info.h"
#include "host/stream/pcm_source.h"
#include "host/stream/stop_signal.h"
#include "host/stream/stream_scorer.h"
#include "scoring.h"

namespace micronet_ad::cli {
namespace {

// Writes one line and flushes it: the point of streaming is that nobody waits for a buffer.
void emit(const nlohmann::ordered_json& j) {
  const std::string line = j.dump() + "\n";
  if (std::fwrite(line.data(), 1, line.size(), stdout) != line.size() || std::fflush(stdout) != 0) {
    throw std::runtime_error("cannot write to stdout (closed?)");
  }
}

}  // namespace

void add_stream_command(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("stream", "Score live raw PCM (stdin or an ALSA device), one JSON line per window");
  static std::string model, machine_id, input, device, format = "s16le";
  static ScoringOptions scoring_options;
  static int rate = 16000, channels = 1;
  static double max_seconds = 0.0;
  static bool input_digest = false;
  static ScoreModeOptions mode;
  static KernelSet kernels = KernelSet::kAuto;
  add_model_option(cmd, &model);
  cmd->add_option("--machine-id", machine_id,
                  "Machine of the stream: a model ID (00, 02, 04, 06) or, with --profile DIR, a profile name")
      ->required();
  // The same floor as for audio files: a rate of a few Hz would make the resampler's output, and
  // its buffers, thousands of times larger than its input.
  cmd->add_option("--rate", rate, "Input sample rate in Hz, 1000 to 768000 (resampled to 16 kHz)")
      ->capture_default_str()
      ->check(CLI::Range(host::kMinSourceRateHz, 768000));
  cmd->add_option("--channels", channels, "Interleaved input channels (averaged)")->capture_default_str()->check(CLI::Range(1, 32));
  cmd->add_option("--format", format, "Sample format (little-endian)")->capture_default_str()->check(CLI::IsMember({"s16le", "f32le"}));
  add_scoring_options(cmd, &scoring_options);
  add_mode_options(cmd, &mode);
  add_kernels_option(cmd, &kernels);
  cmd->add_option("--max-seconds", max_seconds, "Stop after this many seconds of input (default: until it ends)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--input-digest", input_digest, "Add the SHA-1 of each window's int8 model input");
  auto* in = cmd->add_option("INPUT", input, "'-' reads raw PCM from stdin")->check(CLI::IsMember({"-"}));
  auto* dev = cmd->add_option("--device", device, "Capture from this ALSA device (e.g. default, hw:0, null)");
  in->excludes(dev);
  cmd->callback([exit_code, in, dev] {
    // A usage error (exit 2), like the options CLI11 checks itself.
    if (in->count() == 0 && dev->count() == 0) throw CLI::ValidationError("INPUT", "give '-' (stdin) or --device NAME");
    const auto file = host::load_default_model(model);
    host::StreamOptions options;
    options.framing = mode.framing;
    options.resize = mode.resize;
    options.kernels = kernels;
    const Scoring scoring = load_scoring(scoring_options, *file, mode.framing, mode.resize);
    const ScoreMethod kind = scoring.method();
    if (scoring.profiles) options.profile = &scoring.profiles->for_clip("--machine-id", machine_id).profile();
    options.output_index = host::clip_output_index("--machine-id", machine_id, options.profile != nullptr);
    options.max_seconds = max_seconds;
    options.input_digest = input_digest;
    // Every line's decision is the running clip score's, judged in one place.
    scoring.judge.threshold(options.output_index, options.profile);  // a missing machine fails before streaming
    auto add_decision = [&](nlohmann::ordered_json& j, const ClipScore& clip) {
      host::add_decision_json(&j, scoring.judge.judge(clip, options.output_index, options.profile), kind);
    };

    host::PcmFormat pcm;
    pcm.rate = rate;
    pcm.channels = channels;
    host::parse_sample_format(format, &pcm.format);
    std::signal(SIGPIPE, SIG_IGN);  // a closed stdout is an error to report, not a silent death
    host::install_stop_signal_handlers();
    const auto source = device.empty() ? host::open_fd_source(STDIN_FILENO, pcm, "stdin", host::stop_signal_fd())
                                       : host::open_alsa_source(device, pcm, host::stop_signal_fd());

    host::StreamScorer scorer(file->model, options);
    const host::StreamSummary summary = scorer.run(
        *source, [] { return host::stop_signal_received() != 0; },
        [&](const host::WindowEvent& e) {
          nlohmann::ordered_json j = {{"type", "window"},
                                      {"window", e.index},
                                      {"start_s", e.start_seconds},
                                      {"end_s", e.end_seconds},
                                      {"score", e.score[kind]},
                                      {"nll", e.score[ScoreMethod::kNll]},
                                      {"clip_score", e.running[kind]},
                                      {"clip_nll", e.running[ScoreMethod::kNll]},
                                      {"windows", e.running.windows},
                                      {"latency_ms", e.latency_ms}};
          add_decision(j, e.running);
          if (input_digest) j["input_sha1"] = e.input_sha1;
          emit(j);
        });
    const char* id = machine_id_of_output(options.output_index);
    nlohmann::ordered_json j = {
        {"type", "summary"},
        {"end", to_string(summary.end)},
        {"machine_id", id ? id : "-"},
        {"source", source->name()},
        {"source_rate", source->format().rate},
        {"source_frames", summary.source_frames},
        {"seconds", static_cast<double>(summary.samples) / kSampleRateHz},
        {"windows", summary.clip.windows},
        {"score_method", score_method_name(kind)},
        {"clip_score", summary.clip[kind]},
        {"clip_nll", summary.clip[ScoreMethod::kNll]},
        {"predicted_machine_id", machine_id_of_output(summary.clip.predicted_output)
                                     ? machine_id_of_output(summary.clip.predicted_output) : "-"},
        {"degenerate", summary.clip.degenerate()},
        {"latency_ms",
         {{"p50", summary.latency.percentile(0.5)},
          {"p99", summary.latency.percentile(0.99)},
          {"max", summary.latency.max()},
          {"mean", summary.latency.mean()}}},
        {"dropped_bytes", summary.dropped_bytes},
        {"overruns", summary.overruns}};
    if (options.profile) j["profile"] = options.profile->header().name;
    add_decision(j, summary.clip);
    emit(j);
    if (summary.dropped_bytes > 0) {
      std::fprintf(stderr, "micronet-ad: warning: %s: the input ended inside a frame; its last %zu byte(s) were dropped\n",
                   source->name().c_str(), summary.dropped_bytes);
    }
    *exit_code = 0;
  });
}

}  // namespace micronet_ad::cli
