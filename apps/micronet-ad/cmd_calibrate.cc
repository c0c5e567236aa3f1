// Every clip is scored as `score` scores it; each machine's threshold is then the method's
// quantile of its scores (host::calibrate_threshold).
#include "cmd_calibrate.h"

#include <algorithm>
#include <map>
#include <stdexcept>

#include <fmt/core.h>

#include "commands.h"
#include "host/eval/dcase_layout.h"
#include "host/io/default_model.h"
#include "host/io/model_info.h"
#include "output.h"

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
      throw std::runtime_error(arg + ": holds train/ folders of " + std::to_string(dirs.size()) + " machine types (" +
                               dirs[0].machine_type + ", " + dirs[1].machine_type +
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

using ScoresById = std::map<std::string, std::vector<double>>;

// The normal clips' scores by machine ID. Throws when there are none or some clip failed: a
// threshold must not silently rest on fewer clips than were given.
ScoresById normal_scores(const CalibrateOptions& options, const host::ModelFile& file, const Scoring& scoring) {
  const std::vector<host::ClipInput> inputs =
      drop_anomalies(calibration_inputs(options.paths), "thresholds come from normal clips only");
  if (inputs.empty()) throw std::runtime_error("no normal clips to calibrate on");
  const host::BatchOptions batch{options.mode.framing,
                                 options.mode.resize,
                                 options.machine_id,
                                 options.threads,
                                 false,
                                 scoring.profile_set(),
                                 options.max_seconds,
                                 false,
                                 options.kernels};
  ScoresById scores;
  ClipTally tally;
  score_with_progress(file.model, batch, inputs, [&](std::size_t i, host::ClipOutcome& o) {
    if (!tally.observe(inputs[i].path, o)) return;
    scores[scoring.judge.machine_key(o.output_index, o.result->profile)].push_back(
        clip_score(*o.result, scoring.method()));
  });
  tally.print_warnings(file);
  if (tally.failures() > 0) {
    throw std::runtime_error(fmt::format("{} of {} clips could not be scored; no thresholds written to {}",
                                         tally.failures(), inputs.size(), options.output));
  }
  return scores;
}

const host::TextTable& threshold_table() {
  static const host::TextTable table(host::TextFormat::kTable,
                                     {{"id", true, 6},
                                      {"clips", false, 6},
                                      {"min", false, 10},
                                      {"max", false, 10},
                                      {"threshold", false, 10},
                                      {"method", true}},
                                     "  ");
  return table;
}

// Machine `id`'s threshold from its scores, its row printed to `out`.
host::MachineThreshold calibrate_machine(const std::string& id, const std::vector<double>& values,
                                         const CalibrateOptions& options, std::FILE* out) {
  host::Calibration calibration;
  try {
    calibration = host::calibrate_threshold(values, options.method, options.quantile);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(fmt::format("{}: cannot calibrate on its {} clips: {}", id, values.size(), e.what()));
  }
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  std::string how = fmt::format("{} q={}", host::to_string(options.method), options.quantile);
  if (calibration.gamma) {
    how += fmt::format(" (gamma shape {:.4g}, loc {:.6g}, scale {:.4g})", calibration.gamma->shape,
                       calibration.gamma->loc, calibration.gamma->scale);
  }
  print_text(out,
             threshold_table().row({id, std::to_string(values.size()), fmt::format("{:.6f}", *lo),
                                    fmt::format("{:.6f}", *hi), fmt::format("{:.6f}", calibration.threshold), how}));
  if (static_cast<double>(values.size()) * (1.0 - options.quantile) < 1.0) {
    std::fprintf(stderr,
                 "micronet-ad: warning: %s: with %zu clips fewer than one is expected above the %g-quantile; "
                 "the threshold rests on the highest scores alone (--method gamma extrapolates instead)\n",
                 id.c_str(), values.size(), options.quantile);
  }
  return host::MachineThreshold{calibration.threshold, values.size(), calibration.gamma};
}

}  // namespace

int run_calibrate(const CalibrateOptions& options, std::FILE* out) {
  check_writable_file(options.output, "the thresholds");
  const auto file = host::load_default_model(options.model);
  const Scoring scoring = load_scoring(options.scoring, *file, options.mode.framing, options.mode.resize);
  const ScoresById scores = normal_scores(options, *file, scoring);
  host::ThresholdSet set;
  set.model_sha1 = host::model_sha1(*file);
  set.score_kind = scoring.method();
  set.method = options.method;
  set.quantile = options.quantile;
  print_text(out, threshold_table().header());
  for (const auto& [id, values] : scores) set.machines[id] = calibrate_machine(id, values, options, out);
  host::write_thresholds(options.output, set);
  std::fprintf(stderr, "micronet-ad: thresholds for %zu machine(s) written to %s (model SHA-1 %s, score kind %s)\n",
               set.machines.size(), options.output.c_str(), set.model_sha1.c_str(),
               host::to_string(set.score_kind).c_str());
  return 0;
}

CLI::App* add_calibrate_options(CLI::App& app, CalibrateOptions* options) {
  auto* cmd = app.add_subcommand(
      "calibrate", "Decision thresholds per machine ID from normal clips (e.g. a DCASE train/ folder), saved as JSON");
  add_model_option(cmd, &options->model);
  add_mode_options(cmd, &options->mode);
  add_scoring_options(cmd, &options->scoring, false);
  add_max_seconds_option(cmd, &options->max_seconds);
  add_kernels_option(cmd, &options->kernels);
  cmd->add_option("--quantile,-q", options->quantile,
                  "Share of normal clips expected below the threshold, in (0, 1), e.g. 0.9 (DCASE 2021 baseline)")
      ->required()
      ->check(open_unit_interval());
  cmd->add_option_function<std::string>(
         "--method", [options](const std::string& v) { options->method = host::parse_threshold_method(v); },
         kMethodHelp)
      ->default_str("empirical")
      ->check(CLI::IsMember({"empirical", "gamma"}));
  cmd->add_option("--output,-o", options->output, "Thresholds JSON file to write")->required();
  cmd->add_option("--machine-id", options->machine_id, "Machine ID of every clip (default: from DCASE file names)");
  add_threads_option(cmd, &options->threads);
  cmd->add_option("ROOT|FILES", options->paths,
                  "Normal clips: files, folders (recursive), or a DCASE machine type folder / train/ folder")
      ->required();
  return cmd;
}

void add_calibrate_command(CLI::App& app, int* exit_code) {
  static CalibrateOptions options;
  add_calibrate_options(app, &options)->callback([exit_code] { *exit_code = run_calibrate(options, stdout); });
}

}  // namespace micronet_ad::cli
