// micronet-ad features WAV --output X.npy [--stage logmel|patches|input]: the front end's
// intermediate arrays (docs/frontend.md), for checking against other tools.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "common_options.h"

namespace micronet_ad::cli {

enum class FeatureStage {
  kLogMel,   // float32 [frames,64] dB, before the +30 shift
  kPatches,  // float32 [windows,32,32], after it
  kInput,    // int8 [windows,32,32,1], quantized with the model's input parameters
};
const char* stage_name(FeatureStage stage);  // "logmel", "patches", "input"

struct FeaturesOptions {
  std::string audio_path;                      // WAV: the audio file
  std::string output;                          // --output, -o: the .npy file written
  FeatureStage stage = FeatureStage::kLogMel;  // --stage
  std::string model;                           // --model (only --stage input uses it); "" for the default
  ScoreModeOptions mode;                       // --framing, --resize
  double max_seconds = kDefaultMaxSeconds;
};

// Writes the stage's array of the clip to options.output (the result); a one-line summary goes to
// stderr. Returns 0. Throws std::runtime_error when the clip, the model or the output fails.
int run_features(const FeaturesOptions& options);

// The `features` subcommand with its flags bound to *options.
CLI::App* add_features_options(CLI::App& app, FeaturesOptions* options);

}  // namespace micronet_ad::cli
