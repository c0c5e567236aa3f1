// micronet-ad score PATH...: anomaly scores of audio clips (docs/scores.md), one result per clip.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "common_options.h"
#include "output.h"
#include "scoring.h"

namespace micronet_ad::cli {

struct ScoreOptions {
  std::vector<std::string> paths;  // audio files or folders (recursive)
  std::string model;               // --model: file or small|medium|large; "" for the default
  std::string machine_id;          // --machine-id: a model ID or profile name; "" from DCASE names
  ScoreModeOptions mode;
  ScoringOptions scoring;
  OutputFormat format = OutputFormat::kTable;
  std::string report_path;  // --report: also an HTML report
  int threads = 0;          // 0: one per core
  double max_seconds = kDefaultMaxSeconds;
  KernelSet kernels = KernelSet::kAuto;
};

// Scores every clip, printing each result to `out` as it arrives (in input order, whatever the
// thread count). Returns the exit code: 0, or 1 when some clips failed (each named on stderr).
// Throws std::runtime_error when the run cannot start (model, profile, report path).
int run_score(const ScoreOptions& options, std::FILE* out);

// The `score` subcommand with its flags bound to *options.
CLI::App* add_score_options(CLI::App& app, ScoreOptions* options);

}  // namespace micronet_ad::cli
