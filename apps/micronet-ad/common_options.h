// Options shared by the commands that run audio through a model (score, features, inspect --probe).
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "micronet_ad/frontend.h"

namespace micronet_ad::cli {

struct ScoreModeOptions {
  Framing framing = Framing::kCentered;
  Resize resize = Resize::kAverage;
};

inline void add_model_option(CLI::App* cmd, std::string* model) {
  cmd->add_option("--model", *model,
                  "Model file (.tflite) or small|medium|large (default: $MICRONET_AD_MODEL, else the embedded "
                  "ad_medium)");
}

// The CLI's default for --max-seconds: an hour is far beyond any recording it is meant for (DCASE
// clips are 10 s), yet bounds what one file can cost (about 230 MB of 16 kHz samples).
inline constexpr double kDefaultMaxSeconds = 3600.0;

// --max-seconds S: longest clip accepted, checked from the file's header before decoding, so a
// lying or huge file is refused instead of eating the machine's memory.
inline void add_max_seconds_option(CLI::App* cmd, double* max_seconds) {
  *max_seconds = kDefaultMaxSeconds;
  cmd->add_option("--max-seconds", *max_seconds, "Longest clip in seconds of audio; longer ones fail (0: no limit)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
}

// --framing centered|kit and --resize average|decimate (SPEC §3).
inline void add_mode_options(CLI::App* cmd, ScoreModeOptions* mode) {
  cmd->add_option_function<std::string>(
         "--framing", [mode](const std::string& v) { parse_framing(v.c_str(), &mode->framing); },
         "Framing: centered (default, as in training) or kit (Arm's evaluation kit)")
      ->check(CLI::IsMember({"centered", "kit"}));
  cmd->add_option_function<std::string>(
         "--resize", [mode](const std::string& v) { parse_resize(v.c_str(), &mode->resize); },
         "Patch resize: average (default, 2x2 mean) or decimate (Arm's evaluation kit)")
      ->check(CLI::IsMember({"average", "decimate"}));
}

}  // namespace micronet_ad::cli
