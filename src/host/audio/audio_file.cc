#include "host/audio/audio_file.h"

#include <sys/stat.h>
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "host/audio/byte_source.h"
#include "host/audio/frame_decoder.h"
#include "host/audio/resampler.h"
#include "micronet_ad/frontend.h"

namespace micronet_ad::host {
namespace {

using Kind = AudioError::Kind;

[[noreturn]] void fail(Kind kind, const std::string& path, const std::string& what) {
  throw AudioError(kind, path + ": " + what);
}

void check_regular_nonempty(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    fail(Kind::kUnreadable, path, std::string("cannot open: ") + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) fail(Kind::kUnreadable, path, "is a directory, not an audio file");
  if (!S_ISREG(st.st_mode)) fail(Kind::kUnreadable, path, "not a regular file");
  if (st.st_size == 0) fail(Kind::kEmpty, path, "file is empty (0 bytes)");
}

// Largest accepted magnitude, in full scale (±1): 60 dB of headroom above clipping for float
// files. Beyond it data is not audio, and resampling or the spectrum overflow float to infinity
// (found by fuzz_audio_decoder: a float WAV of ±3e38 gave infinite samples at 16 kHz).
constexpr float kMaxAbsSample = 1000.0f;

// Index of the first NaN, infinity or sample beyond ±kMaxAbsSample in x[0..n), or n. The common
// case is one branch-free pass over the magnitude bits (which order like the magnitudes, NaN
// and infinity above every finite value) that the compiler vectorizes.
std::size_t first_bad_sample(const float* x, std::size_t n) {
  std::uint32_t limit_bits;
  std::memcpy(&limit_bits, &kMaxAbsSample, sizeof limit_bits);
  std::uint32_t any = 0;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t bits;
    std::memcpy(&bits, x + i, sizeof bits);
    any |= static_cast<std::uint32_t>((bits & 0x7fffffffu) > limit_bits);
  }
  if (any == 0) return n;
  for (std::size_t i = 0; i < n; ++i) {
    if (!(std::fabs(x[i]) <= kMaxAbsSample)) return i;
  }
  return n;
}

// What is wrong with a sample first_bad_sample found.
std::string bad_sample_message(float x, std::int64_t frame) {
  if (!std::isfinite(x)) return "non-finite sample (NaN or infinity) at frame " + std::to_string(frame);
  std::ostringstream text;
  text << "sample " << x << " at frame " << frame << " is beyond ±" << kMaxAbsSample
       << " full scale (float data that is not audio?)";
  return text.str();
}

// Output samples to reserve for a file declaring `frames` frames at `rate` Hz. The header is
// trusted only up to a cap (the length limit, else 10 minutes): a lying header costs at most
// untouched address space, never a huge allocation.
std::size_t samples_to_reserve(std::int64_t frames, int rate, const AudioLoadOptions& options) {
  if (frames <= 0) return 0;
  const double cap_seconds = options.max_seconds > 0.0 ? options.max_seconds : 600.0;
  const double seconds = std::min(static_cast<double>(frames) / rate, cap_seconds);
  return static_cast<std::size_t>(std::ceil(seconds * kSampleRateHz)) + 64;  // + resampler rounding
}

// Whether the bytes hold a Vorbis identification header ("\x01vorbis") anywhere.
bool mentions_vorbis(ByteSource* bytes) {
  static constexpr char kMarker[] = "\x01vorbis";
  constexpr std::size_t kMarkerLength = sizeof(kMarker) - 1;
  std::vector<char> block(1 << 16);
  std::size_t kept = 0;  // bytes carried over from the previous block, for a marker across blocks
  bytes->seek(0, SEEK_SET);
  for (;;) {
    const std::int64_t got = bytes->read(block.data() + kept, static_cast<std::int64_t>(block.size() - kept));
    if (got <= 0) return false;
    const std::size_t filled = kept + static_cast<std::size_t>(got);
    if (std::search(block.begin(), block.begin() + filled, kMarker, kMarker + kMarkerLength) != block.begin() + filled)
      return true;
    kept = std::min(filled, kMarkerLength - 1);
    std::memmove(block.data(), block.data() + filled - kept, kept);
  }
}

// Opens the decoder the bytes call for (frame_decoder.h). An Ogg stream that libvorbisfile finds
// no Vorbis in goes to libsndfile (Opus), unless it names Vorbis anywhere: libsndfile's own Vorbis
// reader, which leaks on damaged files, must never see one.
std::unique_ptr<FrameDecoder> open_decoder(ByteSource* bytes, const std::string& path) {
  switch (sniff_container(bytes)) {
    case Container::kMpeg:
      return open_mpeg(bytes, path);
    case Container::kOgg:
      if (auto vorbis = open_vorbis(bytes, path)) return vorbis;
      if (mentions_vorbis(bytes)) fail(Kind::kNotAudio, path, "cannot decode as Ogg Vorbis (damaged headers)");
      bytes->seek(0, SEEK_SET);
      return open_sndfile(bytes, path);
    case Container::kMidiSampleDump:
      fail(Kind::kNotAudio, path, "MIDI sample dump files are not supported");
    case Container::kSndfile:
      return open_sndfile(bytes, path);
  }
  return open_sndfile(bytes, path);
}

void check_format(const StreamInfo& info, const std::string& path) {
  if (info.channels < 1) fail(Kind::kInvalid, path, "the file declares no audio channels");
  if (info.rate < kMinSourceRateHz)
    fail(Kind::kInvalid, path,
         "sample rate " + std::to_string(info.rate) + " Hz is below the " + std::to_string(kMinSourceRateHz) +
             " Hz minimum (a damaged or hand-made header?)");
}

[[noreturn]] void fail_too_long(const std::string& path, double max_seconds, double frames, int rate) {
  std::ostringstream limit;  // "3600", not std::to_string's "3600.000000"
  limit << max_seconds;
  fail(Kind::kTooLong, path,
       "longer than the limit of " + limit.str() + " s (" + std::to_string(static_cast<long long>(frames)) +
           " frames at " + std::to_string(rate) + " Hz)");
}

// Decodes the bytes into *out, reusing its sample buffer; `path` labels the errors.
void decode(ByteSource* bytes, const std::string& path, const AudioLoadOptions& options, Audio* out) {
  const std::unique_ptr<FrameDecoder> decoder = open_decoder(bytes, path);
  const StreamInfo& info = decoder->info();
  check_format(info, path);

  Audio& audio = *out;
  audio.samples.clear();  // keeps the capacity: a reused Audio decodes without allocating
  audio.source_frames = 0;
  audio.warnings.clear();
  audio.source_rate = info.rate;
  audio.source_channels = info.channels;
  audio.format = info.format;
  if (const std::string truncated = decoder->header_truncation(); !truncated.empty()) {
    if (!options.allow_truncated) fail(Kind::kTruncated, path, truncated + "; the audio would be incomplete");
    audio.warnings.push_back(path + ": " + truncated + "; using the samples present");
  }

  // The limit in source frames; the header's count (when it gives one) is checked first, then
  // what is decoded.
  const double max_frames = options.max_seconds > 0.0 ? options.max_seconds * info.rate : 0.0;
  auto check_length = [&](double frames) {
    if (max_frames > 0.0 && frames > max_frames) fail_too_long(path, options.max_seconds, frames, info.rate);
  };
  const std::int64_t declared_frames = std::max<std::int64_t>(info.frames, 0);
  check_length(static_cast<double>(declared_frames));

  std::optional<StreamResampler> resampler;
  try {
    resampler.emplace(info.rate, info.channels);
  } catch (const std::invalid_argument& e) {  // a rate or channel count it cannot handle
    fail(Kind::kInvalid, path, e.what());
  }
  audio.samples.reserve(samples_to_reserve(declared_frames, info.rate, options));
  // The chunk size also sets how soxr is fed, which can change resampled output in the last bit.
  // Mono and stereo are read 16,384 frames at a time; files of more channels in fewer frames, so a
  // header claiming 1,024 channels costs 128 KB of buffer, not 64 MB.
  constexpr std::int64_t kChunkValues = 2 * 16384;
  const std::int64_t chunk_frames =
      std::max<std::int64_t>(1, std::min<std::int64_t>(16384, kChunkValues / info.channels));
  std::vector<float> chunk(static_cast<std::size_t>(chunk_frames) * info.channels);
  for (;;) {
    const std::int64_t got = decoder->read(chunk.data(), chunk_frames);
    if (got <= 0) break;
    check_length(static_cast<double>(audio.source_frames + got));
    const std::size_t values = static_cast<std::size_t>(got) * info.channels;
    if (const std::size_t bad = first_bad_sample(chunk.data(), values); bad < values) {
      fail(Kind::kInvalid, path,
           bad_sample_message(chunk[bad], audio.source_frames + static_cast<std::int64_t>(bad / info.channels)));
    }
    resampler->push(chunk.data(), static_cast<std::size_t>(got), &audio.samples);
    audio.source_frames += got;
  }
  resampler->finish(&audio.samples);

  if (audio.source_frames == 0) fail(Kind::kInvalid, path, "no audio frames (header only or empty data chunk)");
  if (audio.samples.empty())  // e.g. 100 frames claiming 8 MHz (found by fuzz_audio_decoder)
    fail(Kind::kInvalid, path,
         std::to_string(audio.source_frames) + " frames at " + std::to_string(info.rate) +
             " Hz are too short to give one sample at 16 kHz");
  if (const std::string damage = decoder->damage(audio.source_frames); !damage.empty()) {
    if (!options.allow_truncated) fail(Kind::kTruncated, path, "truncated or damaged: " + damage);
    audio.warnings.push_back(path + ": " + damage);
  }
}

}  // namespace

const char* to_string(AudioError::Kind kind) {
  switch (kind) {
    case Kind::kUnreadable:
      return "unreadable";
    case Kind::kEmpty:
      return "empty";
    case Kind::kNotAudio:
      return "not_audio";
    case Kind::kInvalid:
      return "invalid_audio";
    case Kind::kTruncated:
      return "truncated_audio";
    case Kind::kTooLong:
      return "too_long";
  }
  return "unknown";
}

void load_audio(const std::string& path, const AudioLoadOptions& options, Audio* out) {
  check_regular_nonempty(path);
  std::optional<FileBytes> file;
  try {
    file.emplace(path);
  } catch (const std::runtime_error& e) {  // e.g. no permission to read
    throw AudioError(Kind::kUnreadable, e.what());
  }
  decode(&*file, path, options, out);
}

Audio load_audio(const std::string& path, const AudioLoadOptions& options) {
  Audio audio;
  load_audio(path, options, &audio);
  return audio;
}

Audio load_audio_memory(const void* data, std::size_t size, const std::string& label, const AudioLoadOptions& options) {
  if (size == 0) fail(Kind::kEmpty, label, "empty (0 bytes)");
  MemoryBytes bytes(data, size);
  Audio audio;
  decode(&bytes, label, options, &audio);
  return audio;
}

}  // namespace micronet_ad::host
