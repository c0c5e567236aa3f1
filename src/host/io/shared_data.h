// Locates ../shared (models, golden data, clips) through one setting: the environment variable
// MICRONET_AD_SHARED, else the path CMake was configured with (default <repo>/../shared).
#pragma once

#include <string>

namespace micronet_ad::host {

std::string shared_dir();
// shared_dir() + "/" + relative; throws std::runtime_error naming the path if it does not exist.
std::string shared_path(const std::string& relative);

}  // namespace micronet_ad::host
