#include "host/io/default_model.h"

#include <cstdint>
#include <cstdlib>
#include <stdexcept>

#include "host/io/sha1.h"

#if MICRONET_AD_EMBEDDED_MODEL
namespace micronet_ad::host::embedded {
// Generated at build time (cmake/embed_model.cmake) from the SHA-1-checked ad_medium file.
extern const std::uint8_t kDefaultModel[];
extern const std::size_t kDefaultModelSize;
extern const char* const kDefaultModelName;
}  // namespace micronet_ad::host::embedded
#endif

namespace micronet_ad::host {

bool is_default_model(const ModelFile& file) {
  return sha1_hex(file.bytes(), file.model.size()) == MICRONET_AD_DEFAULT_MODEL_SHA1;
}

std::unique_ptr<ModelFile> load_default_model(const std::string& option) {
  if (!option.empty()) return load_model_file(option);
  if (const char* env = std::getenv(kModelEnvironmentVariable); env != nullptr && *env != '\0') {
    return load_model_file(env);
  }
#if MICRONET_AD_EMBEDDED_MODEL
  return load_model_bytes(embedded::kDefaultModel, embedded::kDefaultModelSize,
                          std::string("embedded:") + embedded::kDefaultModelName);
#else
  throw std::runtime_error(
      "no model: this build has no embedded default model (ad_medium_int8.tflite was missing or had the "
      "wrong SHA-1 at build time); pass --model PATH|small|medium|large or set MICRONET_AD_MODEL");
#endif
}

}  // namespace micronet_ad::host
