#include "cmd_features.h"

#include <cstdint>
#include <cstdio>
#include <vector>

#include "commands.h"
#include "host/audio/clip_features.h"
#include "host/io/default_model.h"
#include "host/io/npy.h"

namespace micronet_ad::cli {
namespace {

void write_logmel(const std::string& path, const host::ClipFeatures& f) {
  std::vector<float> data;
  data.reserve(f.logmel.size() * kMelBands);
  for (const auto& frame : f.logmel) data.insert(data.end(), frame.begin(), frame.end());
  host::write_npy(path, "f4", {static_cast<std::int64_t>(f.logmel.size()), kMelBands}, data.data(),
                  data.size() * sizeof(float));
}

void write_patches(const std::string& path, const host::ClipFeatures& f) {
  std::vector<float> data;
  data.reserve(f.windows.size() * kPatchElements);
  for (const Window& w : f.windows) data.insert(data.end(), w.patch, w.patch + kPatchElements);
  host::write_npy(path, "f4", {static_cast<std::int64_t>(f.windows.size()), kPatchSide, kPatchSide}, data.data(),
                  data.size() * sizeof(float));
}

void write_inputs(const std::string& path, const host::ClipFeatures& f) {
  std::vector<std::int8_t> data;
  data.reserve(f.windows.size() * kPatchElements);
  for (const Window& w : f.windows) data.insert(data.end(), w.input, w.input + kPatchElements);
  host::write_npy(path, "i1", {static_cast<std::int64_t>(f.windows.size()), kPatchSide, kPatchSide, 1}, data.data(),
                  data.size());
}

}  // namespace

const char* stage_name(FeatureStage stage) {
  switch (stage) {
    case FeatureStage::kLogMel:
      return "logmel";
    case FeatureStage::kPatches:
      return "patches";
    case FeatureStage::kInput:
      return "input";
  }
  return "?";
}

int run_features(const FeaturesOptions& options) {
  FrontendConfig config;
  config.framing = options.mode.framing;
  config.resize = options.mode.resize;
  config.input = {1.0f, 0};  // only the input stage depends on the model's quantization
  std::string model_label;
  if (options.stage == FeatureStage::kInput) {
    const auto file = host::load_default_model(options.model);
    const TensorInfo in = file->model.tensor(file->model.input_tensor());
    config.input = {in.scale(), in.zero_point};
    model_label = " with " + file->path;
  }
  const host::ClipFeatures f =
      host::compute_clip_features(load_clip(options.audio_path, options.max_seconds).samples, config);
  switch (options.stage) {
    case FeatureStage::kLogMel:
      write_logmel(options.output, f);
      break;
    case FeatureStage::kPatches:
      write_patches(options.output, f);
      break;
    case FeatureStage::kInput:
      write_inputs(options.output, f);
      break;
  }
  std::fprintf(stderr, "%s: %zu frames, %zu windows (%s, %s) -> %s %s%s\n", options.audio_path.c_str(), f.logmel.size(),
               f.windows.size(), to_string(options.mode.framing), to_string(options.mode.resize),
               stage_name(options.stage), options.output.c_str(), model_label.c_str());
  return 0;
}

CLI::App* add_features_options(CLI::App& app, FeaturesOptions* options) {
  auto* cmd = app.add_subcommand("features", "Dump a clip's log-mel matrix, patches or int8 model inputs as .npy");
  cmd->add_option("WAV", options->audio_path, "Audio file")->required();
  cmd->add_option("--output,-o", options->output, "Output .npy file")->required();
  cmd->add_option_function<std::string>(
         "--stage",
         [options](const std::string& v) {
           options->stage = v == "input"     ? FeatureStage::kInput
                            : v == "patches" ? FeatureStage::kPatches
                                             : FeatureStage::kLogMel;
         },
         "logmel: float32 [frames,64] dB (before the +30 shift); patches: float32 [windows,32,32] "
         "(after it); input: int8 [windows,32,32,1] quantized with the model's input parameters")
      ->default_str("logmel")
      ->check(CLI::IsMember({"logmel", "patches", "input"}));
  add_mode_options(cmd, &options->mode);
  add_model_option(cmd, &options->model);
  add_max_seconds_option(cmd, &options->max_seconds);
  return cmd;
}

void add_features_command(CLI::App& app, int* exit_code) {
  static FeaturesOptions options;
  add_features_options(app, &options)->callback([exit_code] { *exit_code = run_features(options); });
}

}  // namespace micronet_ad::cli
