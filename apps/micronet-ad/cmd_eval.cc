// micronet-ad eval ROOT: DCASE 2020 Task 2 evaluation (SPEC §5). Scores every labelled test clip
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
};

void write_text(const fs::path& path, const std::string& text) { host::write_file(path.string(), text.data(), text.size()); }

std::string decision_csv(const std::vector<host::ScoreRow>& rows, double threshold) {
  std::string out;
  for (const host::ScoreRow& row : rows) out += fmt::format("{},{}\n", row.file, row.score > threshold ? 1 : 0);
  return out;
}

}  // namespace

void add_eval_command(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "eval", "DCASE evaluation: score every test clip, AUC/pAUC per machine ID, score CSVs and result.csv");
  static std::string root, model, out_dir = "result", thresholds_path, report_path;
  static ScoreModeOptions mode;
  static host::ScoreKind kind = host::ScoreKind::kNegSoftmax;
  static int threads = 0;
  add_model_option(cmd, &model);
  add_mode_options(cmd, &mode);
  add_score_kind_option(cmd, &kind);
  cmd->add_option("--out", out_dir,
                  "Folder for anomaly_score_<type>_id_XX.csv, result.csv and decision_result_<type>_id_XX.csv "
                  "(created; default: result)");
  cmd->add_option("--thresholds", thresholds_path,
                  "Thresholds JSON from `calibrate` (same model and score kind, one machine type): adds decisions, "
                  "precision, recall and F1");
  cmd->add_option("--report", report_path, "Also write a self-contained HTML report (ROC, histograms, spectrograms)");
  cmd->add_option("--threads", threads, "Worker threads (default: one per core)")->check(CLI::Range(0, 256));
  cmd->add_option("ROOT", root,
                  "DCASE tree <ROOT>/<machine_type>/test/{normal,anomaly}_id_XX_*.wav, one machine type's folder, "
                  "or a test/ folder")
      ->required();
  cmd->callback([exit_code] {
    const auto started = std::chrono::steady_clock::now();
    const auto file = host::load_default_model(model);
    std::optional<host::ThresholdSet> thresholds;
    if (!thresholds_path.empty()) thresholds = host::load_thresholds(thresholds_path, model_sha1(*file), kind);
    const std::vector<TestClip> clips = find_test_clips(root);
    const std::vector<std::string> types = machine_types(clips);
    if (thresholds) {
      // Threshold files hold one threshold per machine ID, so they belong to one machine type.
      if (types.size() > 1) {
        throw std::runtime_error(root + ": --thresholds applies to one machine type, but this tree has " +
                                 std::to_string(types.size()) + " (" + types.front() + ", " + types[1] +
                                 ", ...); evaluate one machine type's folder at a time");
      }
      for (const TestClip& c : clips) threshold_for(*thresholds, c.machine_id, thresholds_path);  // fail early
    }

    std::vector<host::ClipInput> inputs;
    for (const TestClip& c : clips) inputs.push_back({c.path, ""});
    const host::BatchOptions options{mode.framing, mode.resize, "", threads, !report_path.empty()};
    std::map<std::pair<std::string, std::string>, Machine> machines;  // sorted by (type, id)
    host::ReportData report;
    std::size_t failures = 0, degenerate = 0;
    score_with_progress(file->model, options, inputs, [&](std::size_t i, host::ClipOutcome& o) {
      if (!o.result) {
        ++failures;
        std::fprintf(stderr, "micronet-ad: error: %s\n", o.error.c_str());
        return;
      }
      if (o.result->clip.degenerate()) ++degenerate;
      const TestClip& c = clips[i];
      const std::string name = fs::path(c.path).filename().string();
      Machine& m = machines[{c.machine_type, c.machine_id}];
      m.scores.machine_type = c.machine_type;
      m.scores.machine_id = c.machine_id;
      m.scores.rows.push_back({name, clip_score(*o.result, kind), 0});
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
    if (thresholds) {
      for (const host::MachineScores& g : groups) {
        decisions.push_back(host::decide_id(g.rows, threshold_for(*thresholds, g.machine_id, thresholds_path)));
      }
    }

    std::error_code ec;
    fs::create_directories(out_dir, ec);
    if (ec) throw std::runtime_error(out_dir + ": cannot create the output folder: " + ec.message());
    for (std::size_t k = 0; k < groups.size(); ++k) {
      const host::MachineScores& g = groups[k];
      host::write_score_csv((fs::path(out_dir) / host::score_csv_name(g.machine_type, g.machine_id)).string(), g.rows);
      if (thresholds) {
        write_text(fs::path(out_dir) / ("decision_result_" + g.machine_type + "_" + g.machine_id + ".csv"),
                   decision_csv(g.rows, decisions[k].threshold));
      }
    }
    write_text(fs::path(out_dir) / "result.csv",
               thresholds ? host::format_result_csv(ids, decisions) : host::format_result_csv(ids));

    fmt::print("{}", host::format_metrics_table(ids, thresholds ? &decisions : nullptr));
    std::fflush(stdout);
    warn_about_undefined(ids);
    warn_if_degenerate(file->path, degenerate, scored);
    std::fprintf(stderr, "micronet-ad: scored %zu clips of %zu machine(s) in %.2f s; results in %s\n", scored,
                 groups.size(), seconds, out_dir.c_str());

    if (!report_path.empty()) {
      report.title = "micronet-ad evaluation: " + root;
      report.facts = report_facts(*file, kind, options);
      if (thresholds) report.facts.push_back({"thresholds", thresholds_path});
      report.score_label = score_kind_label(kind);
      std::size_t k = 0;
      for (const auto& [key, m] : machines) {
        host::ReportMachine rm;
        rm.title = key.first + " " + key.second;
        rm.clips = m.report_clips;
        rm.metrics = ids[k];
        if (thresholds) {
          rm.decisions = decisions[k];
          for (std::size_t c = 0; c < rm.clips.size(); ++c) {
            report.clips[rm.clips[c]].decision = m.scores.rows[c].score > decisions[k].threshold;
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
