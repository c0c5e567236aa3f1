// micronet-ad eval ROOT: DCASE 2020 Task 2 evaluation (docs/scores.md). Scores every labelled test
// clip of ROOT, writes anomaly_score_<type>_id_XX.csv per machine and result.csv into --out, and
// prints the AUC/pAUC table that `metrics` prints for those files. --thresholds adds decisions
// (decision_result_<type>_id_XX.csv, precision/recall/F1), --report an HTML report.
#pragma once

#include <cstdio>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "common_options.h"
#include "enrol.h"
#include "scoring.h"

namespace micronet_ad::cli {

struct EvalOptions {
  std::string root;                       // DCASE tree, one machine type's folder, or a test/ folder
  std::string model;                      // --model: file or small|medium|large; "" for the default
  std::string out_dir = "result";         // --out: folder for the CSVs (created)
  std::string report_path;                // --report: also an HTML report
  std::optional<std::string> enrol_root;  // --enrol [ROOT]: unset: no enrolment; "": the evaluated tree
  EnrolFitOptions enrol;                  // --rank, --compact, --quantile of --enrol's profiles
  ScoreModeOptions mode;
  ScoringOptions scoring;  // --score-kind, --profile, --thresholds
  int threads = 0;         // 0: one per core
  double max_seconds = kDefaultMaxSeconds;
  KernelSet kernels = KernelSet::kAuto;
};

// Evaluates the tree: writes the CSVs (and the report), prints the metrics table to `out` (after
// --enrol's summary table). Returns 0, or 1 when some clips failed (each named on stderr; the
// metrics leave them out). Throws std::runtime_error when the run cannot start (outputs, model,
// tree, thresholds, profiles) or no clip could be scored.
int run_eval(const EvalOptions& options, std::FILE* out);

// The `eval` subcommand with its flags bound to *options.
CLI::App* add_eval_options(CLI::App& app, EvalOptions* options);

}  // namespace micronet_ad::cli
