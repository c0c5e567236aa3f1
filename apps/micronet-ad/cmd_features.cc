// micronet-ad features WAV --output X.npy [--stage logmel|patches|input]: the front end's
// intermediate arrays (docs/frontend.md), for checking against other tools.
#include <cstdio>
#include <string>
#include <vector>

#include "commands.h"
#include "common_options.h"
#include "host/audio/audio_file.h"
#include "host/audio/clip_features.h"
#include "host/io/default_model.h"
#include "host/io/npy.h"

namespace micronet_ad::cli {

void add_features_command(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("features", "Dump a clip's log-mel matrix, patches or int8 model inputs as .npy");
  static std::string audio_path, output, stage = "logmel", model;
  static ScoreModeOptions mode;
  static double max_seconds = kDefaultMaxSeconds;
  cmd->add_option("WAV", audio_path, "Audio file")->required();
  cmd->add_option("--output,-o", output, "Output .npy file")->required();
  cmd->add_option("--stage", stage,
                  "logmel: float32 [frames,64] dB (before the +30 shift); patches: float32 [windows,32,32] "
                  "(after it); input: int8 [windows,32,32,1] quantized with the model's input parameters")
      ->check(CLI::IsMember({"logmel", "patches", "input"}));
  add_mode_options(cmd, &mode);
  add_model_option(cmd, &model);
  add_max_seconds_option(cmd, &max_seconds);
  cmd->callback([exit_code] {
    FrontendConfig config;
    config.framing = mode.framing;
    config.resize = mode.resize;
    config.input = {1.0f, 0};  // only the input stage depends on the model's quantization
    std::string model_label;
    if (stage == "input") {
      const auto file = host::load_default_model(model);
      const TensorInfo in = file->model.tensor(file->model.input_tensor());
      config.input = {in.scale(), in.zero_point};
      model_label = " with " + file->path;
    }
    host::AudioLoadOptions load;
    load.max_seconds = max_seconds;
    const host::Audio audio = host::load_audio(audio_path, load);
    const host::ClipFeatures f = host::compute_clip_features(audio.samples, config);
    const auto windows = static_cast<std::int64_t>(f.windows.size());
    if (stage == "logmel") {
      std::vector<float> data;
      data.reserve(f.logmel.size() * kMelBands);
      for (const auto& frame : f.logmel) data.insert(data.end(), frame.begin(), frame.end());
      host::write_npy(output, "f4", {static_cast<std::int64_t>(f.logmel.size()), kMelBands}, data.data(),
                      data.size() * sizeof(float));
    } else if (stage == "patches") {
      std::vector<float> data;
      data.reserve(f.windows.size() * kPatchElements);
      for (const Window& w : f.windows) data.insert(data.end(), w.patch, w.patch + kPatchElements);
      host::write_npy(output, "f4", {windows, kPatchSide, kPatchSide}, data.data(), data.size() * sizeof(float));
    } else {
      std::vector<std::int8_t> data;
      data.reserve(f.windows.size() * kPatchElements);
      for (const Window& w : f.windows) data.insert(data.end(), w.input, w.input + kPatchElements);
      host::write_npy(output, "i1", {windows, kPatchSide, kPatchSide, 1}, data.data(), data.size());
    }
    std::fprintf(stderr, "%s: %zu frames, %zu windows (%s, %s) -> %s %s%s\n", audio_path.c_str(), f.logmel.size(),
                 f.windows.size(), to_string(mode.framing), to_string(mode.resize), stage.c_str(), output.c_str(),
                 model_label.c_str());
    *exit_code = 0;
  });
}

}  // namespace micronet_ad::cli
