// micronet-ad eval ROOT: DCASE 2020 Task 2 evaluation (docs/scores.md). Scores every labelled test clip
// of ROOT, writes anomaly_score_<type>_id_XX.csv per machine and result.csv into --out, and
// prints the AUC/pAUC table that `metrics` prints for those files. --thresholds adds decisions
// (decision_result_<type>_id_XX.csv, precision/recall/F1), --report an HTML report.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "commands.h"
#include "common_options.h"
#include "host/eval/dcase_csv.h"
#include "host/eval/dcase_layout.h"
#include "host/io/default_model.h"
#include "host/io/file.h"
#include "enrol.h"
#include "scoring.h"

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

void write_text(const fs::path& path, const std::string& text) { host::write_file(path.string(), text.data(), text.size()); }

std::string decision_csv(const std::vector<host::ScoreRow>& rows, double threshold) {
  std::string out;
  for (const host::ScoreRow& row : rows) out += fmt::format("{},{}\n", row.file, is_anomalous(row.score, threshold) ? 1 : 0);
  return out;
}

}  // namespace

void add_eval_command(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "eval", "DCASE evaluation: score every test clip, AUC/pAUC per machine ID, score CSVs and result.csv");
  static std::string root, model, out_dir = "result", report_path, enrol_root;
  static ScoreModeOptions mode;
  static ScoringOptions scoring_options;
  static EnrolOptions enrol_options;
  static int threads = 0;
  static double max_seconds = kDefaultMaxSeconds;
  static KernelSet kernels = KernelSet::kAuto;
  add_model_option(cmd, &model);
  add_mode_options(cmd, &mode);
  add_scoring_options(cmd, &scoring_options, false);
  add_max_seconds_option(cmd, &max_seconds);
  add_kernels_option(cmd, &kernels);
  cmd->add_option("--enrol", enrol_root,
                  "Enrol first: fit a profile per machine type and ID on <ROOT>/<type>/train (written to "
                  "<out>/profiles/), then evaluate <ROOT>/<type>/test by distance; ROOT defaults to the evaluated "
                  "tree")
      ->expected(0, 1)
      ->default_str("");
  add_enrol_fit_options(cmd, &enrol_options);
  cmd->add_option("--out", out_dir,
                  "Folder for anomaly_score_<type>_id_XX.csv, result.csv and decision_result_<type>_id_XX.csv "
                  "(created)")
      ->capture_default_str();
  cmd->add_option("--thresholds", scoring_options.thresholds,
                  "Thresholds JSON from `calibrate` (same model and score kind, one machine type): adds decisions, "
                  "precision, recall and F1");
  cmd->add_option("--report", report_path, "Also write a self-contained HTML report (ROC, histograms, spectrograms)");
  add_threads_option(cmd, &threads);
  cmd->add_option("ROOT", root,
                  "DCASE tree <ROOT>/<machine_type>/test/{normal,anomaly}_id_XX_*.wav, one machine type's folder, "
                  "or a test/ folder")
      ->required();
  cmd->footer(kExitCodesHelp);
  cmd->callback([exit_code, cmd] {
    const auto started = std::chrono::steady_clock::now();
    check_writable_dir(out_dir, "--out");
    if (!report_path.empty()) check_writable_file(report_path, "the report");
    enrol_options.max_seconds = max_seconds;
    enrol_options.kernels = kernels;
    const auto file = host::load_default_model(model);
    const std::vector<TestClip> clips = find_test_clips(root);
    const std::vector<std::string> types = machine_types(clips);
    if (cmd_used(cmd, "--enrol")) {
      if (!scoring_options.profile.empty()) throw std::runtime_error("--enrol and --profile exclude each other");
      scoring_options.profile = enrol_dcase_tree(*file, enrol_root.empty() ? root : enrol_root,
                                                 (fs::path(out_dir) / "profiles").string(), mode, enrol_options,
                                                 threads, types);
    }
    const Scoring scoring = load_scoring(scoring_options, *file, mode.framing, mode.resize);
    const ScoreMethod kind = scoring.method();
    const bool decides = scoring.judge.has_thresholds() || kind == ScoreMethod::kDistance;
    // Threshold files for softmax scores hold one threshold per machine ID, so one machine type.
    if (scoring.judge.has_thresholds() && kind != ScoreMethod::kDistance && types.size() > 1) {
      throw std::runtime_error(root + ": --thresholds applies to one machine type, but this tree has " +
                               std::to_string(types.size()) + " (" + types.front() + ", " + types[1] +
                               ", ...); evaluate one machine type's folder at a time");
    }
    std::vector<host::ClipInput> inputs;
    for (const TestClip& c : clips) inputs.push_back({c.path, ""});
    const host::BatchOptions options{mode.framing, mode.resize, "", threads, !report_path.empty(),
                                     scoring.profile_set(), max_seconds, false, kernels};
    ClipWarnings clip_warnings;
    std::map<std::pair<std::string, std::string>, Machine> machines;  // sorted by (type, id)
    host::ReportData report;
    std::size_t failures = 0, degenerate = 0;
    score_with_progress(file->model, options, inputs, [&](std::size_t i, host::ClipOutcome& o) {
      if (!o.result) {
        ++failures;
        std::fprintf(stderr, "micronet-ad: error: %s\n", o.error.c_str());
        return;
      }
      const TestClip& c = clips[i];
      std::optional<double> threshold;
      try {
        threshold = scoring.judge.threshold(o.output_index, o.result->profile);
      } catch (const std::runtime_error& e) {
        throw std::runtime_error(c.path + ": " + e.what());
      }
      if (o.result->clip.degenerate()) ++degenerate;
      clip_warnings.observe(c.path, o);
      const std::string name = fs::path(c.path).filename().string();
      Machine& m = machines[{c.machine_type, c.machine_id}];
      m.scores.machine_type = c.machine_type;
      m.scores.machine_id = c.machine_id;
      m.scores.rows.push_back({name, clip_score(*o.result, kind), 0});
      m.threshold = threshold;
      if (!report_path.empty()) {
        m.report_clips.push_back(report.clips.size());
        report.clips.push_back(report_clip(name, o, kind));
      }
    });
    const std::size_t scored = clips.size() - failures;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (machines.empty()) throw std::runtime_error(root + ": none of its " + std::to_string(clips.size()) + " test clips could be scored");

    std::vector<host::MachineScores> groups;
    for (const auto& [key, m] : machines) groups.push_back(m.scores);
    const std::vector<host::IdMetrics> ids = host::evaluate_machines(groups);
    std::vector<host::IdDecisions> decisions;
    if (decides) {
      for (const auto& [key, m] : machines) decisions.push_back(host::decide_id(m.scores.rows, m.threshold.value()));
    }

    std::error_code ec;
    fs::create_directories(out_dir, ec);
    if (ec) throw std::runtime_error(out_dir + ": cannot create the output folder: " + ec.message());
    for (std::size_t k = 0; k < groups.size(); ++k) {
      const host::MachineScores& g = groups[k];
      host::write_score_csv((fs::path(out_dir) / host::score_csv_name(g.machine_type, g.machine_id)).string(), g.rows);
      if (decides) {
        write_text(fs::path(out_dir) / ("decision_result_" + g.machine_type + "_" + g.machine_id + ".csv"),
                   decision_csv(g.rows, decisions[k].threshold));
      }
    }
    write_text(fs::path(out_dir) / "result.csv",
               decides ? host::format_result_csv(ids, decisions) : host::format_result_csv(ids));

    fmt::print("{}", host::format_metrics_table(ids, decides ? &decisions : nullptr));
    std::fflush(stdout);
    warn_about_undefined(ids);
    warn_if_degenerate(*file, degenerate, scored);
    clip_warnings.print();
    std::fprintf(stderr, "micronet-ad: scored %zu clips of %zu machine(s) in %.2f s; results in %s\n", scored,
                 groups.size(), seconds, out_dir.c_str());

    if (!report_path.empty()) {
      report.title = "micronet-ad evaluation: " + root;
      report.facts = report_facts(*file, kind, options);
      if (!scoring_options.thresholds.empty()) report.facts.push_back({"thresholds", scoring_options.thresholds});
      if (!scoring_options.profile.empty()) report.facts.push_back({"profiles", scoring_options.profile});
      report.score_label = score_kind_label(kind);
      std::size_t k = 0;
      for (const auto& [key, m] : machines) {
        host::ReportMachine rm;
        rm.title = key.first + " " + key.second;
        rm.clips = m.report_clips;
        rm.metrics = ids[k];
        if (decides) {
          rm.decisions = decisions[k];
          for (std::size_t c = 0; c < rm.clips.size(); ++c) {
            report.clips[rm.clips[c]].decision = is_anomalous(m.scores.rows[c].score, decisions[k].threshold);
          }
        }
        report.machines.push_back(std::move(rm));
        ++k;
      }
      host::write_html_report(report_path, report);
      std::fprintf(stderr, "micronet-ad: report written to %s\n", report_path.c_str());
    }
    if (failures > 0) {
      std::fprintf(stderr, "micronet-ad: error: %zu of %zu test clips could not be scored; the metrics leave them out\n",
                   failures, clips.size());
    }
    *exit_code = failures > 0 ? 1 : 0;
  });
}

}  // namespace micronet_ad::cli
