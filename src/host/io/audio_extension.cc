#include "host/io/audio_extension.h"

#include <algorithm>
#include <cctype>
#include <iterator>

namespace micronet_ad::host {

bool is_audio_extension(std::string extension) {
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  static const char* const kExtensions[] = {".wav",  ".wave", ".flac", ".ogg", ".oga", ".opus", ".aif", ".aiff",
                                            ".aifc", ".au",   ".snd",  ".caf", ".w64", ".rf64", ".mp3"};
  return std::find(std::begin(kExtensions), std::end(kExtensions), extension) != std::end(kExtensions);
}

}  // namespace micronet_ad::host
