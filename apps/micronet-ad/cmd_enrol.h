// micronet-ad enrol --output PROFILE PATH...: a machine's normal sound learnt from a few of its
// recordings (docs/enrolment.md), written as a profile to score it by distance.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "common_options.h"
#include "enrol.h"

namespace micronet_ad::cli {

struct EnrolOptions {
  std::vector<std::string> paths;  // normal clips: audio files or folders (recursive)
  std::string model;               // --model: file or small|medium|large; "" for the default
  std::string machine_id;          // --machine-id: the machine of every clip; "" from DCASE names
  std::string name;                // --name: the profile's name when `output` is a file
  std::string output;              // -o/--output: a profile file, or an existing folder (a profile per machine)
  ScoreModeOptions mode;
  EnrolFitOptions fit;  // --rank, --compact, --quantile
  int threads = 0;      // 0: one per core
  double max_seconds = kDefaultMaxSeconds;
  KernelSet kernels = KernelSet::kAuto;
};

// Enrols every machine found (one when `output` is a file), printing a summary row per profile
// to `out`. Returns 0. Throws std::runtime_error when the output cannot be written, a clip cannot
// be read or a profile cannot be fitted (e.g. fewer than 2 clips).
int run_enrol(const EnrolOptions& options, std::FILE* out);

// The `enrol` subcommand with its flags bound to *options.
CLI::App* add_enrol_options(CLI::App& app, EnrolOptions* options);

}  // namespace micronet_ad::cli
