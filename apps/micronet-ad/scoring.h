// What score, eval and calibrate share on top of host::score_clips: the score kind, the model's
// identity for threshold files, the progress bar and the report's per-clip data.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "host/detect/batch_scorer.h"
#include "host/eval/metrics.h"
#include "host/eval/thresholds.h"
#include "host/io/model_file.h"
#include "host/report/html_report.h"

namespace micronet_ad::cli {

// --score-kind neg_softmax|nll (default neg_softmax, the kit's and the paper's score).
void add_score_kind_option(CLI::App* cmd, host::ScoreKind* kind);

// The clip's score of that kind: mean window -p[id], or mean window -log p[id].
double clip_score(const host::ClipResult& result, host::ScoreKind kind);
// Each window's score of that kind.
std::vector<double> window_scores(const host::ClipResult& result, host::ScoreKind kind);
// Axis label for the report, e.g. "score: mean -p[id]".
std::string score_kind_label(host::ScoreKind kind);

// SHA-1 of the model file's bytes (what threshold files are tied to).
std::string model_sha1(const host::ModelFile& file);

// "id_00" for output index 0.
std::string machine_key(int output_index);

// The threshold for a machine, or a runtime_error naming the thresholds file and the IDs it has.
double threshold_for(const host::ThresholdSet& set, const std::string& machine_id, const std::string& source);

// Scores `inputs` with a progress bar on a terminal (stderr) for batches worth one.
void score_with_progress(const Model& model, const host::BatchOptions& options,
                         const std::vector<host::ClipInput>& inputs,
                         const std::function<void(std::size_t, host::ClipOutcome&)>& emit);

// Warns on stderr about a model whose outputs barely moved (SPEC §4).
void warn_if_degenerate(const std::string& model_path, std::size_t degenerate, std::size_t scored);

// Warns on stderr about IDs whose AUC/pAUC are undefined (left out of the Average).
void warn_about_undefined(const std::vector<host::IdMetrics>& ids);

// The report's view of one scored clip (spectrogram encoded now, so the log-mel can be dropped).
host::ReportClip report_clip(const std::string& name, const host::ClipOutcome& outcome, host::ScoreKind kind);

// Facts at the top of a report: model, its SHA-1, score kind, framing and resize.
std::vector<std::pair<std::string, std::string>> report_facts(const host::ModelFile& file, host::ScoreKind kind,
                                                              const host::BatchOptions& options);

}  // namespace micronet_ad::cli
