#include "host/io/shared_data.h"

#include <sys/stat.h>
#include <cstdlib>
#include <stdexcept>

namespace micronet_ad::host {

std::string shared_dir() {
  if (const char* env = std::getenv("MICRONET_AD_SHARED"); env != nullptr && *env != '\0') return env;
  return MICRONET_AD_SHARED_DEFAULT;
}

std::string shared_path(const std::string& relative) {
  std::string path = shared_dir() + "/" + relative;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    throw std::runtime_error("shared data file not found: " + path + " (set MICRONET_AD_SHARED to the shared folder)");
  }
  return path;
}

}  // namespace micronet_ad::host
