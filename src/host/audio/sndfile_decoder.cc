// Everything but Ogg/Vorbis and MPEG audio: libsndfile through virtual I/O over a ByteSource.
#include <sndfile.h>

#include <cstdio>
#include <sstream>
#include <vector>

#include "host/audio/frame_decoder.h"

namespace micronet_ad::host {
namespace {

using Kind = AudioError::Kind;

[[noreturn]] void fail(Kind kind, const std::string& label, const std::string& what) {
  throw AudioError(kind, label + ": " + what);
}

ByteSource* source(void* user) { return static_cast<ByteSource*>(user); }
sf_count_t io_length(void* user) { return source(user)->size(); }
sf_count_t io_seek(sf_count_t offset, int whence, void* user) { return source(user)->seek(offset, whence); }
sf_count_t io_read(void* out, sf_count_t count, void* user) { return source(user)->read(out, count); }
sf_count_t io_write(const void*, sf_count_t, void*) { return 0; }  // read-only
sf_count_t io_tell(void* user) { return source(user)->tell(); }

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

class SndfileDecoder final : public FrameDecoder {
 public:
  SndfileDecoder(ByteSource* bytes, const std::string& label) {
    SF_VIRTUAL_IO io{&io_length, &io_seek, &io_read, &io_write, &io_tell};
    SF_INFO sf_info{};
    file_ = sf_open_virtual(&io, SFM_READ, &sf_info, bytes);
    if (file_ == nullptr) {
      const std::string why = sf_strerror(nullptr);
      if (const std::string note = invalid_header_note(); !note.empty())
        fail(Kind::kInvalid, label, note + " (a damaged or hand-made header?)");
      fail(Kind::kNotAudio, label, "cannot decode as audio (libsndfile: " + why + ")");
    }
    info_.rate = sf_info.samplerate;
    info_.channels = sf_info.channels;
    // libsndfile says SF_COUNT_MAX when the file does not tell its length (e.g. an OGG/Opus
    // stream cut before its last page).
    length_unknown_ = sf_info.frames == SF_COUNT_MAX;
    info_.frames = length_unknown_ ? -1 : sf_info.frames;
    info_.format = format_name(sf_info.format);
    pcm16_ = (sf_info.format & SF_FORMAT_SUBMASK) == SF_FORMAT_PCM_16;
  }
  ~SndfileDecoder() override { sf_close(file_); }
  SndfileDecoder(const SndfileDecoder&) = delete;
  SndfileDecoder& operator=(const SndfileDecoder&) = delete;

  // 16-bit PCM (DCASE's format) is read as integers and scaled here: the same floats as
  // libsndfile's x·(1/32768), exact, in a loop that vectorizes, and never NaN or infinite.
  std::int64_t read(float* out, std::int64_t frames) override {
    if (!pcm16_) return sf_readf_float(file_, out, frames);
    pcm_.resize(static_cast<std::size_t>(frames) * info_.channels);
    const sf_count_t got = sf_readf_short(file_, pcm_.data(), frames);
    const std::size_t values = got > 0 ? static_cast<std::size_t>(got) * info_.channels : 0;
    for (std::size_t i = 0; i < values; ++i) out[i] = static_cast<float>(pcm_[i]) * (1.0f / 32768.0f);
    return got;
  }

  std::string damage(std::int64_t frames_read) const override {
    if (length_unknown_)
      return "decoding stopped after " + std::to_string(frames_read) +
             " frames and the file does not say how many it holds";
    if (info_.frames > 0 && frames_read < info_.frames)
      return "read " + std::to_string(frames_read) + " of the " + std::to_string(info_.frames) +
             " frames the file declares";
    return "";
  }

  std::string header_truncation() const override {
    const std::string note = truncation_note(file_);
    if (note.empty()) return "";
    long long declared = 0, present = 0;
    if (std::sscanf(note.c_str(), "%*s : %lld (should be %lld)", &declared, &present) == 2)
      return "truncated: the header declares " + std::to_string(declared) + " bytes of audio data, the file holds " +
             std::to_string(present);
    return "truncated: libsndfile reports '" + note + "'";
  }

 private:
  SNDFILE* file_ = nullptr;
  bool length_unknown_ = false;
  bool pcm16_ = false;
  std::vector<short> pcm_;
};

}  // namespace

std::string format_name(int sndfile_format) {
  SF_FORMAT_INFO major{}, minor{};
  major.format = sndfile_format & SF_FORMAT_TYPEMASK;
  minor.format = sndfile_format & SF_FORMAT_SUBMASK;
  std::string name = sf_command(nullptr, SFC_GET_FORMAT_INFO, &major, sizeof(major)) == 0 && major.name
                         ? major.name
                         : "unknown container";
  name += ", ";
  name += sf_command(nullptr, SFC_GET_FORMAT_INFO, &minor, sizeof(minor)) == 0 && minor.name ? minor.name
                                                                                             : "unknown encoding";
  return name;
}

std::unique_ptr<FrameDecoder> open_sndfile(ByteSource* bytes, const std::string& label) {
  return std::make_unique<SndfileDecoder>(bytes, label);
}

}  // namespace micronet_ad::host
