// micronet-ad inspect [MODEL] [--probe AUDIO...]: what the model is, what it costs, how much memory it
// needs and, with --probe, whether it actually responds to real audio.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "common_options.h"
#include "output.h"

namespace micronet_ad::cli {

struct InspectOptions {
  std::string model;                           // MODEL: file or small|medium|large; "" for the default
  OutputFormat format = OutputFormat::kTable;  // --json: kJson
  std::vector<std::string> probe;              // --probe: audio files run through the model
  ScoreModeOptions mode;                       // --framing, --resize of the probe
  double max_seconds = kDefaultMaxSeconds;     // longest probe clip
};

// Prints the model's description (host::model_info_json) to `out`, as tables or one JSON
// document, with the probe's findings when options.probe names clips. Returns 0. Throws
// std::runtime_error when the model or a probe clip cannot be read.
int run_inspect(const InspectOptions& options, std::FILE* out);

// The `inspect` subcommand with its flags bound to *options.
CLI::App* add_inspect_options(CLI::App& app, InspectOptions* options);

}  // namespace micronet_ad::cli
