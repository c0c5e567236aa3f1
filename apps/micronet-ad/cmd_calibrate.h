// micronet-ad calibrate --quantile Q ROOT|FILES...: a decision threshold per machine ID from the
// scores of normal clips (docs/scores.md: the kit's fixed -0.8 is not calibrated), saved as JSON tied
// to the model's SHA-1 and the score kind (host/eval/thresholds.h) for score/eval --thresholds.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "common_options.h"
#include "host/eval/calibration.h"
#include "scoring.h"

namespace micronet_ad::cli {

struct CalibrateOptions {
  std::vector<std::string> paths;  // normal clips: files, folders (recursive), a DCASE type or train/ folder
  std::string model;               // --model: file or small|medium|large; "" for the default
  std::string machine_id;          // --machine-id: the machine of every clip; "" from DCASE names
  std::string output;              // -o/--output: the thresholds JSON to write
  double quantile = 0.0;           // -q/--quantile: share of normal clips below the threshold, in (0, 1)
  host::ThresholdMethod method = host::ThresholdMethod::kEmpirical;  // --method empirical|gamma
  ScoreModeOptions mode;
  ScoringOptions scoring;  // --score-kind, --profile (no --thresholds)
  int threads = 0;         // 0: one per core
  double max_seconds = kDefaultMaxSeconds;
  KernelSet kernels = KernelSet::kAuto;
};

// Scores the normal clips (anomalous DCASE clips are left out), prints a row per machine ID to
// `out` (clips, score range, threshold, method) and writes the thresholds file. Returns 0. Throws
// std::runtime_error, writing nothing, when the output cannot be written, some clip fails, or a
// machine's scores cannot support the method.
int run_calibrate(const CalibrateOptions& options, std::FILE* out);

// The `calibrate` subcommand with its flags bound to *options.
CLI::App* add_calibrate_options(CLI::App& app, CalibrateOptions* options);

}  // namespace micronet_ad::cli
