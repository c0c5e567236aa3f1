// micronet-ad calibrate --quantile Q ROOT|FILES...: a decision threshold per machine ID from the
// scores of normal clips (docs/scores.md: the kit's fixed -0.8 is not calibrated), saved as JSON tied
// to the model's SHA-1 and the score kind (host/eval/thresholds.h) for score/eval --thresholds.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "commands.h"
#include "common_options.h"
#include "host/eval/calibration.h"
#include "host/eval/dcase_csv.h"
#include "host/eval/dcase_layout.h"
#include "host/io/default_model.h"
#include "scoring.h"

namespace micronet_ad::cli {
namespace {

constexpr const char* kMethodHelp =
    "How the threshold is taken from the normal scores. empirical (default): their Q-quantile (numpy's linear "
    "interpolation), no assumption about their distribution; use it when there are plenty of normal clips, "
    "at least about 10/(1-Q) (100 for Q=0.9). gamma: the Q-quantile of a gamma distribution fitted to them "
    "(shape, loc, scale; the DCASE 2021 baseline's method); use it with few clips or Q close to 1, where it "
    "smooths and extrapolates beyond the highest normal score, as long as the scores form one skewed hump";

// A directory that is (or holds) a DCASE train/ folder stands for its clips; anything else is
// expanded as score does. A DCASE tree with several machine types is refused: the thresholds file
// is keyed by machine ID only.
std::vector<host::ClipInput> calibration_inputs(const std::vector<std::string>& args) {
  std::vector<host::ClipInput> inputs;
  for (const std::string& arg : args) {
    std::vector<host::SplitDir> dirs;
    try {
      dirs = host::find_split_dirs(arg, "train");
    } catch (const std::runtime_error&) {
      for (host::ClipInput& input : host::expand_audio_inputs({arg})) inputs.push_back(std::move(input));
      continue;
    }
    if (dirs.size() > 1) {
      throw std::runtime_error(arg + ": holds train/ folders of " + std::to_string(dirs.size()) +
                               " machine types (" + dirs[0].machine_type + ", " + dirs[1].machine_type +
                               ", ...); thresholds are per machine ID, so calibrate one machine type at a time");
    }
    const host::SplitClips clips = host::list_split_clips(dirs[0].path);
    for (const auto* list : {&clips.labelled, &clips.unlabelled}) {
      for (const std::string& path : *list) inputs.push_back({path, ""});
    }
    if (inputs.empty()) inputs.push_back({arg, dirs[0].path + ": no audio files"});
  }
  return inputs;
}

// Anomalous clips must not raise a threshold meant for normal sound.
std::vector<host::ClipInput> drop_anomalies(std::vector<host::ClipInput> inputs) {
  std::size_t dropped = 0;
  std::string example;
  std::vector<host::ClipInput> kept;
  for (host::ClipInput& input : inputs) {
    const auto label = host::parse_clip_label(input.path);
    if (input.error.empty() && label && label->anomalous) {
      if (dropped++ == 0) example = input.path;
      continue;
    }
    kept.push_back(std::move(input));
  }
  if (dropped > 0) {
    std::fprintf(stderr, "micronet-ad: warning: skipping %zu clips labelled anomalous (e.g. %s): thresholds come from "
                 "normal clips only\n", dropped, example.c_str());
  }
  return kept;
}

// CLI11's Range includes its ends (and its help says [0 - 1]); a quantile of 0 or 1 is a usage
// error like any other bad option value (exit 2), so the check is a validator.
CLI::Validator open_unit_interval() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        double q = 0.0;
        if (!CLI::detail::lexical_cast(value, q) || !(q > 0.0 && q < 1.0)) return "must be strictly between 0 and 1";
        return "";
      },
      "(0 - 1, exclusive)");
}

}  // namespace

void add_calibrate_command(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "calibrate", "Decision thresholds per machine ID from normal clips (e.g. a DCASE train/ folder), saved as JSON");
  static std::vector<std::string> paths;
  static std::string model, machine_id, output, method_name = "empirical";
  static double quantile = 0.0;
  static ScoreModeOptions mode;
  static ScoringOptions scoring_options;
  static int threads = 0;
  static double max_seconds = kDefaultMaxSeconds;
  static KernelSet kernels = KernelSet::kAuto;
  add_model_option(cmd, &model);
  add_mode_options(cmd, &mode);
  add_scoring_options(cmd, &scoring_options, false);
  add_max_seconds_option(cmd, &max_seconds);
  add_kernels_option(cmd, &kernels);
  cmd->add_option("--quantile,-q", quantile,
                  "Share of normal clips expected below the threshold, in (0, 1), e.g. 0.9 (DCASE 2021 baseline)")
      ->required()
      ->check(open_unit_interval());
  cmd->add_option("--method", method_name, kMethodHelp)->capture_default_str()->check(CLI::IsMember({"empirical", "gamma"}));
  cmd->add_option("--output,-o", output, "Thresholds JSON file to write")->required();
  cmd->add_option("--machine-id", machine_id, "Machine ID of every clip (default: from DCASE file names)");
  add_threads_option(cmd, &threads);
  cmd->add_option("ROOT|FILES", paths,
                  "Normal clips: files, folders (recursive), or a DCASE machine type folder / train/ folder")
      ->required();
  cmd->callback([exit_code] {
    check_writable_file(output, "the thresholds");
    const host::ThresholdMethod method = host::parse_threshold_method(method_name);
    const auto file = host::load_default_model(model);
    const Scoring scoring = load_scoring(scoring_options, *file, mode.framing, mode.resize);
    const ScoreMethod kind = scoring.method();
    const std::vector<host::ClipInput> inputs = drop_anomalies(calibration_inputs(paths));
    if (inputs.empty()) throw std::runtime_error("no normal clips to calibrate on");
    const host::BatchOptions options{mode.framing, mode.resize, machine_id, threads, false, scoring.profile_set(),
                                     max_seconds, false, kernels};
    std::map<std::string, std::vector<double>> scores;  // by machine ID
    ClipWarnings clip_warnings;
    std::size_t failures = 0, degenerate = 0;
    score_with_progress(file->model, options, inputs, [&](std::size_t i, host::ClipOutcome& o) {
      if (!o.result) {
        ++failures;
        std::fprintf(stderr, "micronet-ad: error: %s\n", o.error.c_str());
        return;
      }
      if (o.result->clip.degenerate()) ++degenerate;
      clip_warnings.observe(inputs[i].path, o);
      scores[scoring.judge.machine_key(o.output_index, o.result->profile)].push_back(clip_score(*o.result, kind));
    });
    warn_if_degenerate(*file, degenerate, inputs.size() - failures);
    clip_warnings.print();
    if (failures > 0) {
      throw std::runtime_error(fmt::format("{} of {} clips could not be scored; no thresholds written to {}", failures,
                                           inputs.size(), output));
    }

    host::ThresholdSet set;
    set.model_sha1 = model_sha1(*file);
    set.score_kind = kind;
    set.method = method;
    set.quantile = quantile;
    fmt::print("{:<6}  {:>6}  {:>10}  {:>10}  {:>10}  {}\n", "id", "clips", "min", "max", "threshold", "method");
    for (const auto& [id, values] : scores) {
      host::Calibration calibration;
      try {
        calibration = host::calibrate_threshold(values, method, quantile);
      } catch (const std::invalid_argument& e) {
        throw std::runtime_error(fmt::format("{}: cannot calibrate on its {} clips: {}", id, values.size(), e.what()));
      }
      set.machines[id] = host::MachineThreshold{calibration.threshold, values.size(), calibration.gamma};
      const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
      std::string how = fmt::format("{} q={}", host::to_string(method), quantile);
      if (calibration.gamma) {
        how += fmt::format(" (gamma shape {:.4g}, loc {:.6g}, scale {:.4g})", calibration.gamma->shape,
                           calibration.gamma->loc, calibration.gamma->scale);
      }
      fmt::print("{:<6}  {:>6}  {:>10.6f}  {:>10.6f}  {:>10.6f}  {}\n", id, values.size(), *lo, *hi,
                 calibration.threshold, how);
      if (static_cast<double>(values.size()) * (1.0 - quantile) < 1.0) {
        std::fprintf(stderr,
                     "micronet-ad: warning: %s: with %zu clips fewer than one is expected above the %g-quantile; "
                     "the threshold rests on the highest scores alone (--method gamma extrapolates instead)\n",
                     id.c_str(), values.size(), quantile);
      }
    }
    host::write_thresholds(output, set);
    std::fprintf(stderr, "micronet-ad: thresholds for %zu machine(s) written to %s (model SHA-1 %s, score kind %s)\n",
                 set.machines.size(), output.c_str(), set.model_sha1.c_str(), host::to_string(kind).c_str());
    *exit_code = 0;
  });
}

}  // namespace micronet_ad::cli
