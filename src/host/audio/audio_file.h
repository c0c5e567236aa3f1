// Audio file decoding (libsndfile) → 16 kHz mono float samples in the int16 scale of SPEC §3.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace micronet_ad::host {

struct AudioLoadOptions {
  // A file whose data is shorter than its header declares (truncated download or copy) is an
  // error by default; when allowed, the samples present are used and a warning is recorded.
  bool allow_truncated = false;
};

struct Audio {
  std::vector<float> samples;  // 16 kHz mono, int16 scale (int16 x → x/32768)
  int source_rate = 0;         // Hz, as stored in the file
  int source_channels = 0;
  std::int64_t source_frames = 0;     // frames decoded from the file
  std::string format;                 // libsndfile's names, e.g. "WAV (Microsoft), Signed 16 bit PCM"
  std::vector<std::string> warnings;  // each starts with the file path

  double duration_seconds() const { return static_cast<double>(samples.size()) / 16000.0; }
};

// Decodes any libsndfile-readable file (WAV in any PCM/float format, FLAC, OGG/Vorbis, AIFF, …),
// averages the channels to mono and resamples other rates to 16 kHz with libsoxr (SOXR_HQ).
// The file is read in fixed-size chunks: a header's frame count is never trusted for allocation.
// Throws std::runtime_error whose message starts with `path` when the file is missing, not a
// regular file, empty, not audio, in an unsupported format, has no channels or no audio frames,
// holds non-finite samples, or is truncated (unless options.allow_truncated).
Audio load_audio(const std::string& path, const AudioLoadOptions& options = {});

}  // namespace micronet_ad::host
