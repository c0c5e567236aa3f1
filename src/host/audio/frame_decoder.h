// Decoders behind load_audio*: each turns a ByteSource into interleaved float frames (±1 full scale).
// Ogg/Vorbis and MPEG audio are decoded with libvorbisfile and libmpg123 directly, everything else
// with libsndfile: libsndfile 1.2 leaks libvorbis' state on every Ogg/Vorbis file it fails to open
// (2-6 KB each, so a service fed malformed uploads grows without bound), and its MPEG reader lets
// libmpg123 print on stderr and cannot open MP3 through virtual I/O ("bad data offset").
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "host/audio/audio_file.h"
#include "host/audio/byte_source.h"

namespace micronet_ad::host {

struct StreamInfo {
  int rate = 0;
  int channels = 0;
  std::int64_t frames = -1;  // what the file declares; -1 when it does not say
  std::string format;        // libsndfile's names, e.g. "OGG (OGG Container format), Vorbis"
};

class FrameDecoder {
 public:
  virtual ~FrameDecoder() = default;
  const StreamInfo& info() const { return info_; }
  // Reads up to `frames` frames into out (frames × channels floats); returns how many, 0 at the
  // end. A damaged stream ends early and says so in damage().
  virtual std::int64_t read(float* out, std::int64_t frames) = 0;
  // After reading to the end: why the audio is incomplete ("" when it is whole), e.g. "read 10 of
  // the 20 frames the file declares".
  virtual std::string damage(std::int64_t frames_read) const = 0;
  // A note from the header that the data is shorter than declared, known before decoding.
  virtual std::string header_truncation() const { return ""; }

 protected:
  StreamInfo info_;
};

// libsndfile's name for a format, e.g. "WAV (Microsoft), Signed 16 bit PCM".
std::string format_name(int sndfile_format);

// Each throws AudioError naming `label` when the bytes cannot be decoded as that format.
std::unique_ptr<FrameDecoder> open_sndfile(ByteSource* bytes, const std::string& label);
// nullptr when the Ogg stream does not start with Vorbis (e.g. Opus, which libsndfile decodes
// cleanly); throws for chained or multiplexed streams (vorbis_decoder.cc says why).
std::unique_ptr<FrameDecoder> open_vorbis(ByteSource* bytes, const std::string& label);
std::unique_ptr<FrameDecoder> open_mpeg(ByteSource* bytes, const std::string& label);

// Which decoder a file's first bytes call for: kOgg for "OggS" (libsndfile's own test), kMpeg for
// an MPEG audio frame header at the start or right after an ID3v2 tag (libsndfile's test for
// MPEG), kMidiSampleDump for MIDI SDS, else kSndfile. libsndfile's SDS reader printf()s
// "Error A : …" on standard output for damaged data, where it would corrupt a CLI's CSV or JSON;
// no one records machines as MIDI sample dumps, so such files are refused instead.
enum class Container { kSndfile, kOgg, kMpeg, kMidiSampleDump };
// Leaves the position at 0.
Container sniff_container(ByteSource* bytes);

}  // namespace micronet_ad::host
