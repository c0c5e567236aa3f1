// micronet-ad stream (-|--device NAME) --machine-id ID: live scoring of raw PCM, one JSON line per
// window as soon as it is complete and a summary line at the end.
#pragma once

#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "common_options.h"
#include "host/stream/pcm_source.h"
#include "output.h"
#include "scoring.h"

namespace micronet_ad::cli {

struct StreamOptions {
  std::string input;       // INPUT: "-" reads raw PCM from stdin
  std::string device;      // --device: an ALSA capture device instead (default, hw:0, null, ...)
  std::string model;       // --model: file or small|medium|large; "" for the default
  std::string machine_id;  // --machine-id (required): a model ID, or with --profile DIR a profile name
  host::PcmFormat pcm;     // --rate (Hz), --channels (averaged), --format s16le|f32le
  ScoringOptions scoring;  // --score-kind, --thresholds, --profile
  ScoreModeOptions mode;
  KernelSet kernels = KernelSet::kAuto;
  double max_seconds = 0.0;   // stop after this many seconds of input (0: when it ends)
  bool input_digest = false;  // --input-digest: each window's line carries its model input's SHA-1
};

// Scores the input until it ends, SIGINT/SIGTERM or --max-seconds: one JSON line per window on
// `out` as soon as it is complete, then the summary line. Returns 0. Throws CLI::ValidationError
// (a usage error, exit 2) without an input, std::runtime_error when the run cannot start (model,
// machine, thresholds, device) or fails (a read error, a NaN sample, `out` closed).
int run_stream(const StreamOptions& options, std::FILE* out);

// The `stream` subcommand with its flags bound to *options.
CLI::App* add_stream_options(CLI::App& app, StreamOptions* options);

}  // namespace micronet_ad::cli
