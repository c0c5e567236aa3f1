// Clips are scored as `score` scores them and grouped by machine (type and ID); each machine's
// scores go to its DCASE score file, and `metrics`' table and result.csv are made from the same
// rows, so `metrics` on the written files prints what eval printed.
#include "cmd_eval.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <utility>
#include <vector>

#include "commands.h"
#include "host/eval/dcase_csv.h"
#include "host/eval/dcase_layout.h"
#include "host/io/default_model.h"
#include "host/io/file.h"
#include "output.h"

namespace micronet_ad::cli {
namespace {

namespace fs = std::filesystem;

// One test clip and the machine it belongs to.
struct TestClip {
  std::string path;
  std::string machine_type;
  std::string machine_id;  // "id_XX", from the file name
};

std::vector<TestClip> find_test_clips(const std::string& root) {
  std::vector<TestClip> clips;
  for (const host::SplitDir& dir : host::find_split_dirs(root, "test")) {
    const host::SplitClips found = host::list_split_clips(dir.path);
    if (!found.unlabelled.empty()) {
      std::fprintf(stderr,
                   "micronet-ad: warning: %s: skipping %zu audio files without a DCASE label in their name (e.g. %s; "
                   "expected {normal,anomaly}_id_XX_NNNNNNNN.wav)\n",
                   dir.path.c_str(), found.unlabelled.size(), found.unlabelled.front().c_str());
    }
    for (const std::string& path : found.labelled) {
      clips.push_back({path, dir.machine_type, host::parse_clip_label(path)->machine_id});
    }
  }
  if (clips.empty()) {
    throw std::runtime_error(root + ": no test clips named {normal,anomaly}_id_XX_NNNNNNNN.wav in its test/ folders");
  }
  return clips;
}

std::vector<std::string> machine_types(const std::vector<TestClip>& clips) {
  std::vector<std::string> types;
  for (const TestClip& c : clips) {
    if (std::find(types.begin(), types.end(), c.machine_type) == types.end()) types.push_back(c.machine_type);
  }
  return types;
}

// Scores of one machine, and where its clips are in the report.
struct Machine {
  host::MachineScores scores;
  std::vector<std::size_t> report_clips;
  std::optional<double> threshold;  // the Judge's, when it decides
};

// What scoring the test clips gathers.
struct EvalScores {
  ScoreMethod kind = ScoreMethod::kNegSoftmax;
  std::map<std::pair<std::string, std::string>, Machine> machines;  // sorted by (type, id)
  std::vector<host::ReportClip> report_clips;                       // with --report
  ClipTally tally;
};

// The metrics of each machine, in the machines' order, and its decisions when the run decides.
struct EvalResults {
  std::vector<host::MachineScores> groups;
  std::vector<host::IdMetrics> ids;
  std::vector<host::IdDecisions> decisions;  // empty when the run does not decide
  const std::vector<host::IdDecisions>* decided() const { return decisions.empty() ? nullptr : &decisions; }
};

// What can be refused before any work: the outputs, and options that exclude each other.
void check_before_start(const EvalOptions& options) {
  check_writable_dir(options.out_dir, "--out");
  if (!options.report_path.empty()) check_writable_file(options.report_path, "the report");
  if (options.enrol_root && !options.scoring.profile.empty())
    throw std::runtime_error("--enrol and --profile exclude each other");
}

// The scoring options; with --enrol, profiles are fitted first (on <enrol root>/<type>/train, into
// <out>/profiles) and scored against as --profile would.
ScoringOptions scoring_with_enrolment(const EvalOptions& options, const host::ModelFile& file,
                                      const std::vector<std::string>& types, std::FILE* out) {
  ScoringOptions scoring = options.scoring;
  if (!options.enrol_root) return scoring;
  const std::string& root = options.enrol_root->empty() ? options.root : *options.enrol_root;
  const host::EnrolSettings settings =
      enrol_settings(options.enrol, options.mode, options.threads, options.max_seconds, options.kernels);
  scoring.profile =
      enrol_dcase_tree(file, root, (fs::path(options.out_dir) / "profiles").string(), settings, types, out);
  return scoring;
}

// Threshold files for softmax scores hold one threshold per machine ID, so one machine type.
void check_thresholds_fit(const Scoring& scoring, const std::string& root, const std::vector<std::string>& types) {
  if (!scoring.judge.has_thresholds() || scoring.method() == ScoreMethod::kDistance || types.size() <= 1) return;
  throw std::runtime_error(root + ": --thresholds applies to one machine type, but this tree has " +
                           std::to_string(types.size()) + " (" + types.front() + ", " + types[1] +
                           ", ...); evaluate one machine type's folder at a time");
}

void add_scored_clip(const TestClip& c, const host::ClipOutcome& o, const Scoring& scoring, bool for_report,
                     EvalScores* scores) {
  std::optional<double> threshold;
  try {
    threshold = scoring.judge.threshold(o.output_index, o.result->profile);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(c.path + ": " + e.what());
  }
  const std::string name = fs::path(c.path).filename().string();
  Machine& m = scores->machines[{c.machine_type, c.machine_id}];
  m.scores.machine_type = c.machine_type;
  m.scores.machine_id = c.machine_id;
  m.scores.rows.push_back({name, clip_score(*o.result, scoring.method()), 0});
  m.threshold = threshold;
  if (for_report) {
    m.report_clips.push_back(scores->report_clips.size());
    scores->report_clips.push_back(report_clip(name, o, scoring.method()));
  }
}

EvalScores score_test_clips(const host::ModelFile& file, const host::BatchOptions& batch,
                            const std::vector<TestClip>& clips, const Scoring& scoring) {
  std::vector<host::ClipInput> inputs;
  for (const TestClip& c : clips) inputs.push_back({c.path, ""});
  EvalScores scores;
  scores.kind = scoring.method();
  score_with_progress(file.model, batch, inputs, [&](std::size_t i, host::ClipOutcome& o) {
    if (scores.tally.observe(clips[i].path, o)) add_scored_clip(clips[i], o, scoring, batch.keep_logmel, &scores);
  });
  return scores;
}

EvalResults evaluate(const EvalScores& scores, bool decides) {
  EvalResults results;
  for (const auto& [key, m] : scores.machines) {
    results.groups.push_back(m.scores);
    if (decides) results.decisions.push_back(host::decide_id(m.scores.rows, m.threshold.value()));
  }
  results.ids = host::evaluate_machines(results.groups);
  return results;
}

// The DCASE files: a score file per machine (and a decision file when the run decides), result.csv.
void write_result_files(const std::string& out_dir, const EvalResults& results) {
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) throw std::runtime_error(out_dir + ": cannot create the output folder: " + ec.message());
  const fs::path dir(out_dir);
  for (std::size_t k = 0; k < results.groups.size(); ++k) {
    const host::MachineScores& g = results.groups[k];
    host::write_score_csv((dir / host::score_csv_name(g.machine_type, g.machine_id)).string(), g.rows);
    if (results.decided()) {
      host::write_decision_csv((dir / host::decision_csv_name(g.machine_type, g.machine_id)).string(), g.rows,
                               results.decisions[k].threshold);
    }
  }
  const std::string result = results.decided() ? host::format_result_csv(results.ids, results.decisions)
                                               : host::format_result_csv(results.ids);
  host::write_file((dir / "result.csv").string(), result.data(), result.size());
}

// The report: a section per machine (its ROC, histograms and, when deciding, each clip's decision).
void write_eval_report(const EvalOptions& options, const ScoringOptions& scoring_options, const host::ModelFile& file,
                       const host::BatchOptions& batch, EvalScores& scores, const EvalResults& results) {
  const ScoreMethod kind = scores.kind;
  host::ReportData report;
  report.title = "micronet-ad evaluation: " + options.root;
  report.facts = report_facts(file, kind, batch);
  if (!scoring_options.thresholds.empty()) report.facts.push_back({"thresholds", scoring_options.thresholds});
  if (!scoring_options.profile.empty()) report.facts.push_back({"profiles", scoring_options.profile});
  report.score_label = score_kind_label(kind);
  report.clips = std::move(scores.report_clips);
  std::size_t k = 0;
  for (const auto& [key, m] : scores.machines) {
    host::ReportMachine rm;
    rm.title = key.first + " " + key.second;
    rm.clips = m.report_clips;
    rm.metrics = results.ids[k];
    if (results.decided()) {
      rm.decisions = results.decisions[k];
      for (std::size_t c = 0; c < rm.clips.size(); ++c)
        report.clips[rm.clips[c]].decision = is_anomalous(m.scores.rows[c].score, results.decisions[k].threshold);
    }
    report.machines.push_back(std::move(rm));
    ++k;
  }
  host::write_html_report(options.report_path, report);
  std::fprintf(stderr, "micronet-ad: report written to %s\n", options.report_path.c_str());
}

}  // namespace

int run_eval(const EvalOptions& options, std::FILE* out) {
  const auto started = std::chrono::steady_clock::now();
  check_before_start(options);
  const auto file = host::load_default_model(options.model);
  const std::vector<TestClip> clips = find_test_clips(options.root);
  const std::vector<std::string> types = machine_types(clips);
  const ScoringOptions scoring_options = scoring_with_enrolment(options, *file, types, out);
  const Scoring scoring = load_scoring(scoring_options, *file, options.mode.framing, options.mode.resize);
  check_thresholds_fit(scoring, options.root, types);
  const host::BatchOptions batch{
      options.mode.framing,  options.mode.resize, "",    options.threads, !options.report_path.empty(),
      scoring.profile_set(), options.max_seconds, false, options.kernels};
  EvalScores scores = score_test_clips(*file, batch, clips, scoring);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (scores.machines.empty())
    throw std::runtime_error(options.root + ": none of its " + std::to_string(clips.size()) +
                             " test clips could be scored");
  const EvalResults results = evaluate(scores, scoring.decides());
  write_result_files(options.out_dir, results);
  print_text(out, host::format_metrics_table(results.ids, results.decided()));
  warn_about_undefined(results.ids);
  scores.tally.print_warnings(*file);
  std::fprintf(stderr, "micronet-ad: scored %zu clips of %zu machine(s) in %.2f s; results in %s\n",
               scores.tally.scored(), results.groups.size(), seconds, options.out_dir.c_str());
  if (!options.report_path.empty()) write_eval_report(options, scoring_options, *file, batch, scores, results);
  const std::size_t failures = scores.tally.failures();
  if (failures > 0) {
    std::fprintf(stderr, "micronet-ad: error: %zu of %zu test clips could not be scored; the metrics leave them out\n",
                 failures, clips.size());
  }
  return failures > 0 ? 1 : 0;
}

CLI::App* add_eval_options(CLI::App& app, EvalOptions* options) {
  auto* cmd = app.add_subcommand(
      "eval", "DCASE evaluation: score every test clip, AUC/pAUC per machine ID, score CSVs and result.csv");
  add_model_option(cmd, &options->model);
  add_mode_options(cmd, &options->mode);
  add_scoring_options(cmd, &options->scoring, false);
  add_max_seconds_option(cmd, &options->max_seconds);
  add_kernels_option(cmd, &options->kernels);
  cmd->add_option_function<std::string>(
         "--enrol", [options](const std::string& root) { options->enrol_root = root; },
         "Enrol first: fit a profile per machine type and ID on <ROOT>/<type>/train (written to <out>/profiles/), "
         "then evaluate <ROOT>/<type>/test by distance; ROOT defaults to the evaluated tree")
      ->expected(0, 1)
      ->default_str("");
  add_enrol_fit_options(cmd, &options->enrol);
  cmd->add_option("--out", options->out_dir,
                  "Folder for anomaly_score_<type>_id_XX.csv, result.csv and decision_result_<type>_id_XX.csv "
                  "(created)")
      ->capture_default_str();
  cmd->add_option("--thresholds", options->scoring.thresholds,
                  "Thresholds JSON from `calibrate` (same model and score kind, one machine type): adds decisions, "
                  "precision, recall and F1");
  cmd->add_option("--report", options->report_path,
                  "Also write a self-contained HTML report (ROC, histograms, spectrograms)");
  add_threads_option(cmd, &options->threads);
  cmd->add_option("ROOT", options->root,
                  "DCASE tree <ROOT>/<machine_type>/test/{normal,anomaly}_id_XX_*.wav, one machine type's folder, "
                  "or a test/ folder")
      ->required();
  cmd->footer(kExitCodesHelp);
  return cmd;
}

void add_eval_command(CLI::App& app, int* exit_code) {
  static EvalOptions options;
  add_eval_options(app, &options)->callback([exit_code] { *exit_code = run_eval(options, stdout); });
}

}  // namespace micronet_ad::cli
