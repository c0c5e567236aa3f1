#include "host/audio/audio_file.h"

#include <sndfile.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <sys/stat.h>

#include "host/audio/resampler.h"
#include "micronet_ad/frontend.h"

namespace micronet_ad::host {
namespace {

struct SndfileCloser {
  void operator()(SNDFILE* file) const { sf_close(file); }
};
using Sndfile = std::unique_ptr<SNDFILE, SndfileCloser>;

using Kind = AudioError::Kind;

[[noreturn]] void fail(Kind kind, const std::string& path, const std::string& what) {
  throw AudioError(kind, path + ": " + what);
}

void check_regular_nonempty(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) fail(Kind::kUnreadable, path, std::string("cannot open: ") + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) fail(Kind::kUnreadable, path, "is a directory, not an audio file");
  if (!S_ISREG(st.st_mode)) fail(Kind::kUnreadable, path, "not a regular file");
  if (st.st_size == 0) fail(Kind::kEmpty, path, "file is empty (0 bytes)");
}

// libsndfile virtual I/O over a read-only byte range.
struct MemoryFile {
  const unsigned char* data;
  sf_count_t size;
  sf_count_t position;
};

sf_count_t memory_length(void* user) { return static_cast<MemoryFile*>(user)->size; }

sf_count_t memory_seek(sf_count_t offset, int whence, void* user) {
  MemoryFile* m = static_cast<MemoryFile*>(user);
  const sf_count_t base = whence == SEEK_CUR ? m->position : whence == SEEK_END ? m->size : 0;
  const sf_count_t target = base + offset;
  if (target < 0 || target > m->size) return -1;  // never a position outside the bytes
  m->position = target;
  return target;
}

sf_count_t memory_read(void* ptr, sf_count_t count, void* user) {
  MemoryFile* m = static_cast<MemoryFile*>(user);
  const sf_count_t n = std::max<sf_count_t>(0, std::min(count, m->size - m->position));
  if (n > 0) std::memcpy(ptr, m->data + m->position, static_cast<std::size_t>(n));
  m->position += n;
  return n;
}

sf_count_t memory_write(const void*, sf_count_t, void*) { return 0; }  // read-only
sf_count_t memory_tell(void* user) { return static_cast<MemoryFile*>(user)->position; }

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


// libsndfile refuses a header declaring 0 Hz or 0 channels as "SF_INFO struct incomplete" and
// leaves the header's values in its global log (" Sample rate :   0"). Returns what is wrong in
// the user's terms, or "" when the failure is something else.
std::string invalid_header_note() {
  char log[8192] = {0};
  sf_command(nullptr, SFC_GET_LOG_INFO, log, sizeof(log) - 1);
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    long long value = 0;
    if (std::sscanf(line.c_str(), " Sample rate : %lld", &value) == 1 && value < 1)
      return "the header declares a sample rate of " + std::to_string(value) + " Hz";
    if (std::sscanf(line.c_str(), " Channels : %lld", &value) == 1 && value < 1)
      return "the header declares " + std::to_string(value) + " audio channels";
  }
  return "";
}

// Index of the first NaN or infinity in x[0..n), or n. The common all-finite case is one
// branch-free pass (all exponent bits set = not finite) that the compiler vectorizes.
std::size_t first_non_finite(const float* x, std::size_t n) {
  std::uint32_t any = 0;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t bits;
    std::memcpy(&bits, x + i, sizeof bits);
    any |= static_cast<std::uint32_t>((bits & 0x7f800000u) == 0x7f800000u);
  }
  if (any == 0) return n;
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(x[i])) return i;
  }
  return n;
}

// Output samples to reserve for a file declaring `frames` frames at `rate` Hz. The header is
// trusted only up to a cap (the length limit, else 10 minutes): a lying header costs at most
// untouched address space, never a huge allocation.
std::size_t samples_to_reserve(sf_count_t frames, int rate, const AudioLoadOptions& options) {
  if (frames <= 0) return 0;
  const double cap_seconds = options.max_seconds > 0.0 ? options.max_seconds : 600.0;
  const double seconds = std::min(static_cast<double>(frames) / rate, cap_seconds);
  return static_cast<std::size_t>(std::ceil(seconds * kSampleRateHz)) + 64;  // + resampler rounding
}

// Decodes an opened file (from disk or memory) into *out, reusing its sample buffer; `path`
// labels the errors.
void decode(SNDFILE* opened, const SF_INFO& info, const std::string& path, const AudioLoadOptions& options,
            Audio* out) {
  Sndfile file(opened);
  if (!file) {
    const std::string why = sf_strerror(nullptr);
    if (const std::string note = invalid_header_note(); !note.empty())
      fail(Kind::kInvalid, path, note + " (a damaged or hand-made header?)");
    fail(Kind::kNotAudio, path, "cannot decode as audio (libsndfile: " + why + ")");
  }
  if (info.channels < 1) fail(Kind::kInvalid, path, "the file declares no audio channels");
  if (info.samplerate < kMinSourceRateHz)
    fail(Kind::kInvalid, path, "sample rate " + std::to_string(info.samplerate) + " Hz is below the " +
                                   std::to_string(kMinSourceRateHz) + " Hz minimum (a damaged or hand-made header?)");

  Audio& audio = *out;
  audio.samples.clear();  // keeps the capacity: a reused Audio decodes without allocating
  audio.source_frames = 0;
  audio.warnings.clear();
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
    if (!options.allow_truncated) fail(Kind::kTruncated, path, what + "; the audio would be incomplete");
    audio.warnings.push_back(path + ": " + what + "; using the samples present");
  }

  // libsndfile says SF_COUNT_MAX when the file does not tell its length (e.g. an OGG stream cut
  // before its last page); only a known count is checked against the limit and the data read.
  const sf_count_t declared_frames = info.frames == SF_COUNT_MAX ? 0 : info.frames;

  // The limit in source frames; the header's count is checked first, then what is decoded.
  const double max_frames = options.max_seconds > 0.0 ? options.max_seconds * info.samplerate : 0.0;
  auto check_length = [&](double frames) {
    if (max_frames > 0.0 && frames > max_frames) {
      std::ostringstream limit;  // "3600", not std::to_string's "3600.000000"
      limit << options.max_seconds;
      fail(Kind::kTooLong, path, "longer than the limit of " + limit.str() + " s (" +
                                     std::to_string(static_cast<long long>(frames)) + " frames at " +
                                     std::to_string(info.samplerate) + " Hz)");
    }
  };
  check_length(static_cast<double>(declared_frames));

  std::optional<StreamResampler> resampler;
  try {
    resampler.emplace(info.samplerate, info.channels);
  } catch (const std::invalid_argument& e) {  // a rate or channel count it cannot handle
    fail(Kind::kInvalid, path, e.what());
  }
  audio.samples.reserve(samples_to_reserve(declared_frames, info.samplerate, options));
  // The chunk size also sets how soxr is fed, which can change resampled output in the last bit.
  constexpr sf_count_t kChunkFrames = 16384;
  std::vector<float> chunk(static_cast<std::size_t>(kChunkFrames) * info.channels);
  // 16-bit PCM (DCASE's format) is read as integers and scaled here: the same floats as
  // libsndfile's x·(1/32768), exact, in a loop that vectorizes, and never NaN or infinite.
  const bool pcm16 = (info.format & SF_FORMAT_SUBMASK) == SF_FORMAT_PCM_16;
  std::vector<short> pcm(pcm16 ? chunk.size() : 0);
  for (;;) {
    const sf_count_t got = pcm16 ? sf_readf_short(file.get(), pcm.data(), kChunkFrames)
                                 : sf_readf_float(file.get(), chunk.data(), kChunkFrames);
    if (got <= 0) break;
    check_length(static_cast<double>(audio.source_frames + got));
    const std::size_t values = static_cast<std::size_t>(got) * info.channels;
    if (pcm16) {
      for (std::size_t i = 0; i < values; ++i) chunk[i] = static_cast<float>(pcm[i]) * (1.0f / 32768.0f);
    } else if (const std::size_t bad = first_non_finite(chunk.data(), values); bad < values) {
      fail(Kind::kInvalid, path, "non-finite sample (NaN or infinity) at frame " +
                                     std::to_string(audio.source_frames + static_cast<std::int64_t>(bad / info.channels)));
    }
    resampler->push(chunk.data(), static_cast<std::size_t>(got), &audio.samples);
    audio.source_frames += got;
  }
  resampler->finish(&audio.samples);

  if (audio.source_frames == 0) fail(Kind::kInvalid, path, "no audio frames (header only or empty data chunk)");
  const bool length_unknown = info.frames == SF_COUNT_MAX;
  if (length_unknown || (info.frames > 0 && audio.source_frames < info.frames)) {
    const std::string what = length_unknown ? "decoding stopped after " + std::to_string(audio.source_frames) +
                                                  " frames and the file does not say how many it holds"
                                            : "read " + std::to_string(audio.source_frames) + " of the " +
                                                  std::to_string(info.frames) + " frames the file declares";
    if (!options.allow_truncated) fail(Kind::kTruncated, path, "truncated or damaged: " + what);
    audio.warnings.push_back(path + ": " + what);
  }
}

}  // namespace

const char* to_string(AudioError::Kind kind) {
  switch (kind) {
    case Kind::kUnreadable: return "unreadable";
    case Kind::kEmpty: return "empty";
    case Kind::kNotAudio: return "not_audio";
    case Kind::kInvalid: return "invalid_audio";
    case Kind::kTruncated: return "truncated_audio";
    case Kind::kTooLong: return "too_long";
  }
  return "unknown";
}

void load_audio(const std::string& path, const AudioLoadOptions& options, Audio* out) {
  check_regular_nonempty(path);
  SF_INFO info{};
  SNDFILE* file = sf_open(path.c_str(), SFM_READ, &info);
  decode(file, info, path, options, out);
}

Audio load_audio(const std::string& path, const AudioLoadOptions& options) {
  Audio audio;
  load_audio(path, options, &audio);
  return audio;
}

Audio load_audio_memory(const void* data, std::size_t size, const std::string& label, const AudioLoadOptions& options) {
  if (size == 0) fail(Kind::kEmpty, label, "empty (0 bytes)");
  SF_VIRTUAL_IO io{&memory_length, &memory_seek, &memory_read, &memory_write, &memory_tell};
  MemoryFile memory{static_cast<const unsigned char*>(data), static_cast<sf_count_t>(size), 0};
  SF_INFO info{};
  SNDFILE* file = sf_open_virtual(&io, SFM_READ, &info, &memory);
  Audio audio;
  decode(file, info, label, options, &audio);
  return audio;
}

}  // namespace micronet_ad::host
