// Which model a command runs: --model, else $MICRONET_AD_MODEL, else the ad_medium copy embedded
// at build time (docs/models.md: ad_small and ad_large barely respond to their input).
#pragma once

#include <memory>
#include <string>

#include "host/io/model_file.h"

namespace micronet_ad::host {

inline constexpr const char* kModelEnvironmentVariable = "MICRONET_AD_MODEL";

// `option` is the --model value ("" when not given): a path or small|medium|large. Throws
// std::runtime_error when no model is given, none is set in the environment and none was
// embedded, telling the user to pass --model. The ModelFile's path says where it came from.
std::unique_ptr<ModelFile> load_default_model(const std::string& option);

// True when `file` is the default model's bytes (ad_medium, by SHA-1), wherever it came from.
bool is_default_model(const ModelFile& file);

}  // namespace micronet_ad::host
