// Options shared by the commands that run audio through a model (score, features, inspect --probe).
#pragma once

#include <cstddef>
#include <string>

#include <CLI/CLI.hpp>

#include "host/audio/audio_file.h"
#include "micronet_ad/frontend.h"
#include "micronet_ad/interpreter.h"

namespace micronet_ad::cli {

// The exit codes of the commands that score many clips, for their --help.
inline constexpr const char* kExitCodesHelp =
    "Exit codes: 0 all went well; 1 some clips could not be read or scored (each is named in one line on stderr, "
    "the others are still scored and reported), or the model, an option's file or the output failed; 2 usage "
    "error.\n";

struct ScoreModeOptions {
  Framing framing = Framing::kCentered;
  Resize resize = Resize::kAverage;
};

inline void add_model_option(CLI::App* cmd, std::string* model) {
  cmd->add_option("--model", *model,
                  "Model file (.tflite) or small|medium|large (default: $MICRONET_AD_MODEL, else the embedded "
                  "ad_medium)");
}

// --threads N, 0 (the default) meaning one worker per core.
inline void add_threads_option(CLI::App* cmd, int* threads) {
  cmd->add_option("--threads", *threads, "Worker threads (0: one per core)")
      ->capture_default_str()
      ->check(CLI::Range(0, 256));
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

// A clip as --max-seconds allows it: a longer one throws std::runtime_error naming the file.
inline host::Audio load_clip(const std::string& path, double max_seconds) {
  host::AudioLoadOptions load;
  load.max_seconds = max_seconds;
  return host::load_audio(path, load);
}

// A size option in MiB (--max-body-mb, --max-payload-mb) in bytes.
inline std::size_t mib_bytes(double mib) { return static_cast<std::size_t>(mib * 1024 * 1024); }

// --kernels: which kernels run the model. Every set gives the same bytes (tests check it), so
// this is for measuring and for ruling the optimized kernels out when in doubt.
inline void add_kernels_option(CLI::App* cmd, KernelSet* kernels) {
  *kernels = KernelSet::kAuto;
  cmd->add_option_function<std::string>(
         "--kernels", [kernels](const std::string& v) { parse_kernel_set(v.c_str(), kernels); },
         "Kernels: auto (the fastest this CPU runs) or reference (portable); avx2|avxvnni|avx512vnni (x86-64) or "
         "neon|neon_dotprod (AArch64) force one; all give the same results")
      ->default_str("auto")
      ->check(CLI::IsMember({"reference", "auto", "avx2", "avxvnni", "avx512vnni", "neon", "neon_dotprod"}));
}

// --framing centered|kit and --resize average|decimate (docs/frontend.md).
inline void add_mode_options(CLI::App* cmd, ScoreModeOptions* mode) {
  cmd->add_option_function<std::string>(
         "--framing", [mode](const std::string& v) { parse_framing(v.c_str(), &mode->framing); },
         "Framing: centered (as in training) or kit (Arm's evaluation kit)")
      ->default_str("centered")
      ->check(CLI::IsMember({"centered", "kit"}));
  cmd->add_option_function<std::string>(
         "--resize", [mode](const std::string& v) { parse_resize(v.c_str(), &mode->resize); },
         "Patch resize: average (2x2 mean, as in training) or decimate (Arm's evaluation kit)")
      ->default_str("average")
      ->check(CLI::IsMember({"average", "decimate"}));
}

}  // namespace micronet_ad::cli
