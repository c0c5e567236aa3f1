// libFuzzer target: host::load_audio_memory, the decoding wrapper behind `serve` uploads (format
// sniffing, libsndfile / libvorbisfile / libmpg123, length limits, channel mixing, resampling).
// It must either return finite 16 kHz samples no longer than the limit allows, or throw
// host::AudioError; a crash, a leak (LeakSanitizer), another exception or an allocation beyond
// -rss_limit_mb is a bug.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "host/audio/audio_file.h"

namespace {

using micronet_ad::host::Audio;
using micronet_ad::host::AudioError;
using micronet_ad::host::AudioLoadOptions;

// A header claiming hours must be refused, not decoded into gigabytes: the service's kind of limit.
constexpr double kMaxSeconds = 30.0;

void check(const Audio& audio) {
  const double max_samples = (kMaxSeconds + 1.0) * 16000.0;
  if (audio.samples.empty() || static_cast<double>(audio.samples.size()) > max_samples) std::abort();
  for (float x : audio.samples) {
    if (!std::isfinite(x)) std::abort();
  }
  if (audio.source_rate < micronet_ad::host::kMinSourceRateHz || audio.source_channels < 1) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Exact-size copy so that AddressSanitizer sees reads past the end.
  std::unique_ptr<std::uint8_t[]> bytes(new std::uint8_t[size > 0 ? size : 1]);
  if (size > 0) std::memcpy(bytes.get(), data, size);
  AudioLoadOptions options;
  options.max_seconds = kMaxSeconds;
  for (bool allow_truncated : {false, true}) {  // the CLI's default, then its --allow-truncated
    options.allow_truncated = allow_truncated;
    try {
      check(micronet_ad::host::load_audio_memory(bytes.get(), size, "fuzz", options));
      return 0;
    } catch (const AudioError& e) {
      if (e.kind() != AudioError::Kind::kTruncated) return 0;
    }
  }
  return 0;
}
