#include "host/audio/audio_file.h"

#include <sndfile.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <sys/stat.h>

#include "host/audio/resampler.h"

namespace micronet_ad::host {
namespace {

struct SndfileCloser {
  void operator()(SNDFILE* file) const { sf_close(file); }
};
using Sndfile = std::unique_ptr<SNDFILE, SndfileCloser>;

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw std::runtime_error(path + ": " + what);
}

void check_regular_nonempty(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) fail(path, std::string("cannot open: ") + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) fail(path, "is a directory, not an audio file");
  if (!S_ISREG(st.st_mode)) fail(path, "not a regular file");
  if (st.st_size == 0) fail(path, "file is empty (0 bytes)");
}

std::string format_name(int format) {
  SF_FORMAT_INFO major{}, minor{};
  major.format = format & SF_FORMAT_TYPEMASK;
  minor.format = format & SF_FORMAT_SUBMASK;
  std::string name = sf_command(nullptr, SFC_GET_FORMAT_INFO, &major, sizeof(major)) == 0 && major.name
                         ? major.name : "unknown container";
  name += ", ";
  name += sf_command(nullptr, SFC_GET_FORMAT_INFO, &minor, sizeof(minor)) == 0 && minor.name
              ? minor.name : "unknown encoding";
  return name;
}

// libsndfile clamps a data chunk that runs past the end of the file to what is there and notes
// it in its log as e.g. "data : 20000 (should be 1000)" (WAV) or "SSND : … (should be …)" (AIFF).
// Returns that line, or "" when the data is complete.
std::string truncation_note(SNDFILE* file) {
  char log[8192] = {0};
  sf_command(file, SFC_GET_LOG_INFO, log, sizeof(log) - 1);
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    const bool data_chunk = line.rfind("data", 0) == 0 || line.rfind("SSND", 0) == 0;
    if (data_chunk && line.find("should be") != std::string::npos) return line;
  }
  return "";
}

}  // namespace

Audio load_audio(const std::string& path, const AudioLoadOptions& options) {
  check_regular_nonempty(path);
  SF_INFO info{};
  Sndfile file(sf_open(path.c_str(), SFM_READ, &info));
  if (!file) {
    const std::string why = sf_strerror(nullptr);
    fail(path, "cannot decode as audio (libsndfile: " + why + ")");
  }
  if (info.channels < 1) fail(path, "the file declares no audio channels");
  if (info.samplerate < 1) fail(path, "invalid sample rate " + std::to_string(info.samplerate) + " Hz");

  Audio audio;
  audio.source_rate = info.samplerate;
  audio.source_channels = info.channels;
  audio.format = format_name(info.format);
  const std::string truncated = truncation_note(file.get());
  if (!truncated.empty()) {
    long long declared = 0, present = 0;
    const bool parsed = std::sscanf(truncated.c_str(), "%*s : %lld (should be %lld)", &declared, &present) == 2;
    const std::string what = parsed ? "truncated: the header declares " + std::to_string(declared) +
                                          " bytes of audio data, the file holds " + std::to_string(present)
                                    : "truncated: libsndfile reports '" + truncated + "'";
    if (!options.allow_truncated) fail(path, what + "; the audio would be incomplete");
    audio.warnings.push_back(path + ": " + what + "; using the samples present");
  }

  StreamResampler resampler(info.samplerate, info.channels);
  constexpr sf_count_t kChunkFrames = 16384;
  std::vector<float> chunk(static_cast<std::size_t>(kChunkFrames) * info.channels);
  for (;;) {
    const sf_count_t got = sf_readf_float(file.get(), chunk.data(), kChunkFrames);
    if (got <= 0) break;
    const std::size_t values = static_cast<std::size_t>(got) * info.channels;
    for (std::size_t i = 0; i < values; ++i) {
      if (!std::isfinite(chunk[i])) {
        fail(path, "non-finite sample (NaN or infinity) at frame " +
                       std::to_string(audio.source_frames + static_cast<std::int64_t>(i / info.channels)));
      }
    }
    resampler.push(chunk.data(), static_cast<std::size_t>(got), &audio.samples);
    audio.source_frames += got;
  }
  resampler.finish(&audio.samples);

  if (audio.source_frames == 0) fail(path, "no audio frames (header only or empty data chunk)");
  if (info.frames > 0 && audio.source_frames < info.frames) {
    const std::string what = "read " + std::to_string(audio.source_frames) + " of the " +
                             std::to_string(info.frames) + " frames the file declares";
    if (!options.allow_truncated) fail(path, "truncated or damaged: " + what);
    audio.warnings.push_back(path + ": " + what);
  }
  return audio;
}

}  // namespace micronet_ad::host
