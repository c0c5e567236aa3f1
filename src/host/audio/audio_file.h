// Audio file decoding (libsndfile) → 16 kHz mono float samples in the int16 scale of docs/frontend.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace micronet_ad::host {

// Lowest source rate accepted. Nothing real is recorded below it, and a header claiming a tiny
// rate (1 Hz) turns a small file into days of audio that resampling would blow up into gigabytes.
inline constexpr int kMinSourceRateHz = 1000;

struct AudioLoadOptions {
  // A file whose data is shorter than its header declares (truncated download or copy) is an
  // error by default; when allowed, the samples present are used and a warning is recorded.
  bool allow_truncated = false;
  // Longest accepted input in seconds of source audio (0: no limit), checked while decoding so a
  // long upload is refused before it is all decoded.
  double max_seconds = 0.0;
};

// What load_audio* throw: a std::runtime_error whose kind tells callers (e.g. the HTTP service)
// which of the documented problems it is without parsing the message.
class AudioError : public std::runtime_error {
 public:
  enum class Kind {
    kUnreadable,  // missing, a directory, not a regular file
    kEmpty,       // 0 bytes
    kNotAudio,    // libsndfile cannot decode it
    kInvalid,     // no channels, bad rate, no frames, non-finite samples
    kTruncated,   // data shorter than the header declares
    kTooLong,     // longer than AudioLoadOptions::max_seconds
  };
  AudioError(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};
// "unreadable", "empty", "not_audio", "invalid_audio", "truncated_audio", "too_long".
const char* to_string(AudioError::Kind kind);

struct Audio {
  std::vector<float> samples;  // 16 kHz mono, int16 scale (int16 x → x/32768)
  int source_rate = 0;         // Hz, as stored in the file
  int source_channels = 0;
  std::int64_t source_frames = 0;     // frames decoded from the file
  std::string format;                 // libsndfile's names, e.g. "WAV (Microsoft), Signed 16 bit PCM"
  std::vector<std::string> warnings;  // each starts with the file path

  double duration_seconds() const { return static_cast<double>(samples.size()) / 16000.0; }
};

// Decodes any libsndfile-readable file (WAV in any PCM/float format, FLAC, OGG/Opus, AIFF, …)
// but MIDI sample dumps, Ogg/Vorbis (libvorbisfile) and MPEG audio such as MP3 (libmpg123), with
// nothing leaked or printed on a damaged file (frame_decoder.h); averages the channels to mono
// and resamples other rates to 16 kHz with libsoxr (SOXR_HQ).
// The file is read in fixed-size chunks: a header's frame count is never trusted for allocation.
// Throws AudioError (a std::runtime_error) whose message starts with `path` when the file is missing, not a
// regular file, empty, not audio, in an unsupported format, has no channels, a sample rate below
// kMinSourceRateHz or above the resampler's limit, no audio frames,
// holds non-finite samples, is truncated (unless options.allow_truncated) or is longer than
// options.max_seconds.
Audio load_audio(const std::string& path, const AudioLoadOptions& options = {});
// The same into *out, reusing its sample buffer's capacity: a caller decoding many clips (one
// Audio per thread) then neither allocates nor page-faults per clip. On failure *out is unspecified.
void load_audio(const std::string& path, const AudioLoadOptions& options, Audio* out);

// The same decoding and checks for a file's bytes already in memory (e.g. an HTTP request body);
// `label` starts every error message and warning.
Audio load_audio_memory(const void* data, std::size_t size, const std::string& label,
                        const AudioLoadOptions& options = {});

}  // namespace micronet_ad::host
