// micronet-ad score PATH...: anomaly scores of audio clips (docs/scores.md), one result per clip.
// Files are scored by a small pool of threads (host::score_clips); results are printed in input
// order, so the output does not depend on --threads. With --thresholds or --profile each clip
// also gets a decision (1: anomalous), with --report an HTML report.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "common_options.h"
#include "host/detect/clip_json.h"
#include "host/io/default_model.h"
#include "scoring.h"

namespace micronet_ad::cli {
namespace {

// RFC 4180: quote a field holding a comma, quote or line break.
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

// The report groups clips by machine ID (score has no machine types).
host::ReportData score_report(const host::ModelFile& file, ScoreMethod kind, const host::BatchOptions& options,
                              std::vector<host::ReportClip> clips, const std::vector<std::string>& ids,
                              const std::vector<std::optional<double>>& thresholds) {
  host::ReportData data;
  data.title = "micronet-ad score report";
  data.facts = report_facts(file, kind, options);
  data.score_label = score_kind_label(kind);
  for (std::size_t i = 0; i < clips.size(); ++i) {
    auto it = std::find_if(data.machines.begin(), data.machines.end(),
                           [&](const host::ReportMachine& m) { return m.metrics.machine_id == ids[i]; });
    if (it == data.machines.end()) {
      data.machines.emplace_back();
      it = data.machines.end() - 1;
      it->title = ids[i];
      it->metrics.machine_id = ids[i];
    }
    it->clips.push_back(i);
  }
  for (host::ReportMachine& m : data.machines) {
    std::vector<host::ScoreRow> labelled;
    for (std::size_t i : m.clips) {
      if (clips[i].anomalous) labelled.push_back({clips[i].name, clips[i].score, 0});
    }
    if (!labelled.empty()) m.metrics = host::evaluate_id(m.metrics.machine_id, labelled);
    // Clips of one machine share its threshold.
    if (const auto& t = thresholds[m.clips.front()]) m.decisions = host::decide_id(labelled, *t);
  }
  data.clips = std::move(clips);
  return data;
}

}  // namespace

void add_score_command(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("score", "Anomaly scores of audio clips (files or directories, recursive)");
  static std::vector<std::string> paths;
  static std::string model, machine_id, format = "table", report_path;
  static ScoreModeOptions mode;
  static ScoringOptions scoring_options;
  static int threads = 0;
  static double max_seconds = kDefaultMaxSeconds;
  static KernelSet kernels = KernelSet::kAuto;
  add_model_option(cmd, &model);
  cmd->add_option("--machine-id", machine_id,
                  "Machine of every clip: a model ID (00..06) or, with --profile DIR, a profile name (default: "
                  "from DCASE file names)");
  add_mode_options(cmd, &mode);
  add_scoring_options(cmd, &scoring_options);
  add_max_seconds_option(cmd, &max_seconds);
  add_kernels_option(cmd, &kernels);
  cmd->add_option("--report", report_path, "Also write a self-contained HTML report (charts, spectrograms)");
  cmd->add_option("--format", format, "Output format: table, csv or json")
      ->capture_default_str()
      ->check(CLI::IsMember({"table", "csv", "json"}));
  add_threads_option(cmd, &threads);
  cmd->add_option("PATH", paths, "Audio files or directories")->required();
  cmd->footer(kExitCodesHelp);
  cmd->callback([exit_code] {
    if (!report_path.empty()) check_writable_file(report_path, "the report");
    const auto file = host::load_default_model(model);
    const Scoring scoring = load_scoring(scoring_options, *file, mode.framing, mode.resize);
    const ScoreMethod kind = scoring.method();
    const bool decides = scoring.judge.has_thresholds() || kind == ScoreMethod::kDistance;
    const std::vector<host::ClipInput> inputs = host::expand_audio_inputs(paths);
    host::BatchOptions options{mode.framing, mode.resize, machine_id, threads, !report_path.empty(),
                               scoring.profile_set(), max_seconds};
    options.kernels = kernels;
    // Sized to the longest path, so long paths do not push the other columns out of line.
    std::size_t path_width = 4;
    for (const host::ClipInput& in : inputs) path_width = std::max(path_width, in.path.size());
    ClipWarnings clip_warnings;

    nlohmann::ordered_json clips = nlohmann::ordered_json::array(), failed = nlohmann::ordered_json::array();
    std::vector<host::ReportClip> report_clips;
    std::vector<std::string> report_ids;
    std::vector<std::optional<double>> report_thresholds;
    std::size_t failures = 0, degenerate = 0, scored = 0;
    const std::string decision_header = decides ? fmt::format(" {:>10} {:>8}", "threshold", "decision") : "";
    if (format == "table") {
      fmt::print("{:<{}} {:>3} {:>10} {:>8} {:>7} {:>9}{}\n", "path", path_width, "id", "score", "nll", "windows",
                 "predicted", decision_header);
    } else if (format == "csv") {
      fmt::print("path,machine_id,score,nll,windows,predicted_machine_id,degenerate{}\n",
                 decides ? ",threshold,decision" : "");
    }
    std::fflush(stdout);
    auto fail = [&](const std::string& path, const std::string& error) {
      ++failures;
      std::fprintf(stderr, "micronet-ad: error: %s\n", error.c_str());
      failed.push_back({{"path", path}, {"error", error}});
    };
    score_with_progress(file->model, options, inputs, [&](std::size_t i, host::ClipOutcome& o) {
      if (!o.result) return fail(inputs[i].path, o.error);
      const host::ClipResult& r = *o.result;
      host::Verdict verdict;
      try {
        verdict = scoring.judge.judge(r.clip, o.output_index, r.profile);
      } catch (const std::runtime_error& e) {
        return fail(inputs[i].path, inputs[i].path + ": " + e.what());
      }
      ++scored;
      clip_warnings.observe(inputs[i].path, o);
      const char* known_id = machine_id_of_output(o.output_index);
      const char* id = known_id ? known_id : "-";
      const std::optional<double>& threshold = verdict.threshold;
      const int decision = verdict.anomalous() ? 1 : 0;
      if (r.clip.degenerate()) ++degenerate;
      if (format == "table") {
        fmt::print("{:<{}} {:>3} {:>10.6f} {:>8.4f} {:>7} {:>9}{}{}\n", inputs[i].path, path_width, id, verdict.score,
                   r.clip[ScoreMethod::kNll], r.clip.windows, host::predicted_machine_id(r.clip),
                   threshold ? fmt::format(" {:>10.6f} {:>8}", *threshold, decision) : "",
                   r.clip.degenerate() ? "  degenerate" : "");
      } else if (format == "csv") {
        fmt::print("{},{},{:.8f},{:.8f},{},{},{}{}\n", csv_field(inputs[i].path), id, verdict.score,
                   r.clip[ScoreMethod::kNll], r.clip.windows, host::predicted_machine_id(r.clip), r.clip.degenerate() ? 1 : 0,
                   threshold ? fmt::format(",{:.8f},{}", *threshold, decision) : "");
      } else {
        nlohmann::ordered_json clip = host::clip_json(inputs[i].path, o.output_index, r, kind);
        host::add_verdict_json(&clip, o.seconds, verdict, kind);
        clips.push_back(std::move(clip));
      }
      std::fflush(stdout);
      if (!report_path.empty()) {
        report_clips.push_back(report_clip(std::filesystem::path(inputs[i].path).filename().string(), o, kind));
        if (threshold) report_clips.back().decision = decision == 1;
        report_ids.push_back(verdict.machine.empty() ? "-" : verdict.machine);
        report_thresholds.push_back(threshold);
      }
    });
    if (format == "json") {
      nlohmann::ordered_json j = {{"model", file->path},
                                  {"framing", to_string(mode.framing)},
                                  {"resize", to_string(mode.resize)},
                                  {"score_kind", host::to_string(kind)},
                                  {"clips", clips},
                                  {"failed", failed}};
      if (!scoring_options.thresholds.empty()) j["thresholds"] = scoring_options.thresholds;
      if (!scoring_options.profile.empty()) j["profile"] = scoring_options.profile;
      fmt::print("{}\n", j.dump(2));
    }
    warn_if_degenerate(*file, degenerate, scored);
    clip_warnings.print();
    if (!report_path.empty()) {
      host::write_html_report(report_path,
                              score_report(*file, kind, options, std::move(report_clips), report_ids, report_thresholds));
      std::fprintf(stderr, "micronet-ad: report written to %s\n", report_path.c_str());
    }
    *exit_code = failures > 0 ? 1 : 0;
  });
}

}  // namespace micronet_ad::cli
