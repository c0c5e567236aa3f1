// Files are scored by a small pool of threads (host::score_clips); results are printed in input
// order, so the output does not depend on --threads. With --thresholds or --profile each clip
// also gets a decision (1: anomalous), with --report an HTML report.
#include "cmd_score.h"

#include <algorithm>
#include <filesystem>
#include <optional>

#include <fmt/core.h>

#include "commands.h"
#include "host/detect/clip_json.h"
#include "host/io/default_model.h"

namespace micronet_ad::cli {
namespace {

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

// The table's and the CSV's columns. The table is for reading (paths padded to the longest, a
// degenerate clip marked at the end of its line); the CSV is for programs (every field a column).
host::TextTable score_table(OutputFormat format, bool decides, std::size_t path_width) {
  std::vector<host::TextColumn> columns;
  if (format == OutputFormat::kCsv) {
    for (const char* name : {"path", "machine_id", "score", "nll", "windows", "predicted_machine_id", "degenerate"})
      columns.push_back({name});
  } else {
    columns = {{"path", true, path_width}, {"id", false, 3},      {"score", false, 10},
               {"nll", false, 8},          {"windows", false, 7}, {"predicted", false, 9}};
  }
  if (decides) columns.insert(columns.end(), {{"threshold", false, 10}, {"decision", false, 8}});
  return host::TextTable(text_format(format), columns);
}

std::string score_row(const host::TextTable& table, const std::string& path, const std::string& id,
                      const host::Verdict& verdict, const host::ClipResult& r) {
  const bool csv = table.format() == host::TextFormat::kCsv;
  const int digits = csv ? 8 : 6;
  std::vector<std::string> cells{path,
                                 id,
                                 fmt::format("{:.{}f}", verdict.score, digits),
                                 fmt::format("{:.{}f}", r.clip[ScoreMethod::kNll], csv ? 8 : 4),
                                 std::to_string(r.clip.windows),
                                 host::predicted_machine_id(r.clip)};
  if (csv) cells.push_back(r.clip.degenerate() ? "1" : "0");
  if (verdict.threshold) {
    cells.insert(cells.end(), {fmt::format("{:.{}f}", *verdict.threshold, digits), verdict.anomalous() ? "1" : "0"});
  }
  std::string line = table.row(cells);
  if (!csv && r.clip.degenerate()) line.insert(line.size() - 1, "  degenerate");
  return line;
}

// One run's state: how it prints each clip as it arrives, and what it gathers for the JSON
// document and the report.
struct ScoreRun {
  ScoreRun(const ScoreOptions& o, const Scoring& s, const host::TextTable& t, std::FILE* f)
      : options(o), scoring(s), table(t), out(f) {}

  const ScoreOptions& options;
  const Scoring& scoring;
  const host::TextTable& table;
  std::FILE* out;
  nlohmann::ordered_json clips = nlohmann::ordered_json::array(), failed = nlohmann::ordered_json::array();
  std::vector<host::ReportClip> report_clips;
  std::vector<std::string> report_ids;
  std::vector<std::optional<double>> report_thresholds;
  std::size_t failures = 0, degenerate = 0, scored = 0;
  ClipWarnings clip_warnings;

  void fail(const std::string& path, const std::string& error) {
    ++failures;
    std::fprintf(stderr, "micronet-ad: error: %s\n", error.c_str());
    failed.push_back({{"path", path}, {"error", error}});
  }

  void clip(const std::string& path, const host::ClipOutcome& o) {
    if (!o.result) return fail(path, o.error);
    const host::ClipResult& r = *o.result;
    host::Verdict verdict;
    try {
      verdict = scoring.judge.judge(r.clip, o.output_index, r.profile);
    } catch (const std::runtime_error& e) {
      return fail(path, path + ": " + e.what());
    }
    ++scored;
    clip_warnings.observe(path, o);
    if (r.clip.degenerate()) ++degenerate;
    const ScoreMethod kind = scoring.method();
    if (options.format == OutputFormat::kJson) {
      nlohmann::ordered_json clip = host::clip_json(path, o.output_index, r, kind);
      host::add_verdict_json(&clip, o.seconds, verdict, kind);
      clips.push_back(std::move(clip));
    } else {
      print_text(out, score_row(table, path, machine_id_text(o.output_index), verdict, r));
    }
    if (options.report_path.empty()) return;
    report_clips.push_back(report_clip(std::filesystem::path(path).filename().string(), o, kind));
    if (verdict.threshold) report_clips.back().decision = verdict.anomalous();
    report_ids.push_back(verdict.machine.empty() ? "-" : verdict.machine);
    report_thresholds.push_back(verdict.threshold);
  }

  nlohmann::ordered_json document(const host::ModelFile& file) {
    nlohmann::ordered_json j = {{"model", file.path},
                                {"framing", to_string(options.mode.framing)},
                                {"resize", to_string(options.mode.resize)},
                                {"score_kind", host::to_string(scoring.method())},
                                {"clips", std::move(clips)},
                                {"failed", std::move(failed)}};
    if (!options.scoring.thresholds.empty()) j["thresholds"] = options.scoring.thresholds;
    if (!options.scoring.profile.empty()) j["profile"] = options.scoring.profile;
    return j;
  }
};

}  // namespace

int run_score(const ScoreOptions& options, std::FILE* out) {
  const bool with_report = !options.report_path.empty();
  if (with_report) check_writable_file(options.report_path, "the report");
  const auto file = host::load_default_model(options.model);
  const Scoring scoring = load_scoring(options.scoring, *file, options.mode.framing, options.mode.resize);
  const bool decides = scoring.decides();
  const std::vector<host::ClipInput> inputs = host::expand_audio_inputs(options.paths);
  host::BatchOptions batch{options.mode.framing, options.mode.resize,   options.machine_id, options.threads,
                           with_report,          scoring.profile_set(), options.max_seconds};
  batch.kernels = options.kernels;
  std::size_t path_width = 4;  // so long paths do not push the other columns out of line
  for (const host::ClipInput& in : inputs) path_width = std::max(path_width, in.path.size());
  const host::TextTable table = score_table(options.format, decides, path_width);
  if (options.format != OutputFormat::kJson) print_text(out, table.header());

  ScoreRun run{options, scoring, table, out};
  score_with_progress(file->model, batch, inputs,
                      [&](std::size_t i, host::ClipOutcome& o) { run.clip(inputs[i].path, o); });
  if (options.format == OutputFormat::kJson) print_json(out, run.document(*file));
  warn_if_degenerate(*file, run.degenerate, run.scored);
  run.clip_warnings.print();
  if (with_report) {
    host::write_html_report(options.report_path,
                            score_report(*file, scoring.method(), batch, std::move(run.report_clips), run.report_ids,
                                         run.report_thresholds));
    std::fprintf(stderr, "micronet-ad: report written to %s\n", options.report_path.c_str());
  }
  return run.failures > 0 ? 1 : 0;
}

CLI::App* add_score_options(CLI::App& app, ScoreOptions* options) {
  auto* cmd = app.add_subcommand("score", "Anomaly scores of audio clips (files or directories, recursive)");
  add_model_option(cmd, &options->model);
  cmd->add_option("--machine-id", options->machine_id,
                  "Machine of every clip: a model ID (00..06) or, with --profile DIR, a profile name (default: "
                  "from DCASE file names)");
  add_mode_options(cmd, &options->mode);
  add_scoring_options(cmd, &options->scoring);
  add_max_seconds_option(cmd, &options->max_seconds);
  add_kernels_option(cmd, &options->kernels);
  cmd->add_option("--report", options->report_path, "Also write a self-contained HTML report (charts, spectrograms)");
  add_format_option(cmd, &options->format, "Output format: table, csv or json");
  add_threads_option(cmd, &options->threads);
  cmd->add_option("PATH", options->paths, "Audio files or directories")->required();
  cmd->footer(kExitCodesHelp);
  return cmd;
}

void add_score_command(CLI::App& app, int* exit_code) {
  static ScoreOptions options;
  add_score_options(app, &options)->callback([exit_code] { *exit_code = run_score(options, stdout); });
}

}  // namespace micronet_ad::cli
