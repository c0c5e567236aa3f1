// Helpers for tests that read ../shared (through MICRONET_AD_SHARED; a missing file fails).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "host/io/file.h"
#include "host/io/shared_data.h"

namespace micronet_ad::test {

inline std::vector<std::uint8_t> shared_bytes(const std::string& relative) {
  return host::read_file(host::shared_path(relative));
}

inline std::vector<std::int8_t> shared_int8(const std::string& relative) {
  const std::vector<std::uint8_t> b = shared_bytes(relative);
  return std::vector<std::int8_t>(b.begin(), b.end());
}

inline std::string model_path(const std::string& name) {  // "small" -> models/ad_small_int8.tflite
  return host::shared_path("models/ad_" + name + "_int8.tflite");
}

}  // namespace micronet_ad::test
