// Malformed uploads of every audio format the service accepts, made at test time with libsndfile
// from a real clip: zero-length, header-only, 100-byte prefixes, truncated at
// random, bit-flipped at random, and (WAV) a header claiming up to 1024 channels. Deterministic.
#pragma once

#include <sndfile.h>

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace micronet_ad::abuse {

struct EncodedClip {
  std::string format;  // "wav", "flac", "ogg", "mp3"
  std::string bytes;
};

// The first `seconds` of `source` (mono 16 kHz) encoded as `format`; empty if libsndfile cannot
// write it (MP3 needs a libsndfile built with LAME).
inline std::string encode_clip(const std::string& source, double seconds, int format, const std::string& path) {
  SF_INFO in{};
  SNDFILE* f = sf_open(source.c_str(), SFM_READ, &in);
  if (!f) return "";
  std::vector<short> samples(static_cast<std::size_t>(seconds * in.samplerate) * static_cast<std::size_t>(in.channels));
  const sf_count_t frames = sf_readf_short(f, samples.data(), static_cast<sf_count_t>(samples.size()) / in.channels);
  sf_close(f);
  SF_INFO out{};
  out.samplerate = in.samplerate;
  out.channels = in.channels;
  out.format = format;
  if (!sf_format_check(&out)) return "";
  SNDFILE* w = sf_open(path.c_str(), SFM_WRITE, &out);
  if (!w) return "";
  sf_writef_short(w, samples.data(), frames);
  sf_close(w);
  std::string bytes;
  if (FILE* r = std::fopen(path.c_str(), "rb")) {
    char buf[65536];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, r)) > 0;) bytes.append(buf, n);
    std::fclose(r);
  }
  std::remove(path.c_str());
  return bytes;
}

// WAV, FLAC, OGG/Vorbis and, when this libsndfile writes it, MP3; `skipped` names what it could not.
inline std::vector<EncodedClip> encode_every_format(const std::string& source, double seconds,
                                                    const std::string& temp_dir, std::vector<std::string>* skipped) {
  const struct {
    const char* name;
    int format;
  } formats[] = {{"wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16},
                 {"flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16},
                 {"ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS},
                 {"mp3", SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III}};
  std::vector<EncodedClip> clips;
  for (const auto& f : formats) {
    std::string bytes = encode_clip(source, seconds, f.format, temp_dir + "/encoded." + f.name);
    if (bytes.empty()) {
      skipped->push_back(f.name);
    } else {
      clips.push_back({f.name, std::move(bytes)});
    }
  }
  return clips;
}

// One malformed upload and whether any answer but a 4xx is wrong for it (a random truncation or
// bit flip may still be decodable audio, so 200 is acceptable there).
struct MalformedUpload {
  std::string label;  // "ogg truncated to 812 bytes"
  std::string bytes;
  bool must_be_rejected = false;
};

// Bytes of the container header: what a decoder reads before any audio.
inline std::size_t header_size(const EncodedClip& clip) {
  if (clip.format == "wav") return 44;
  if (clip.format == "flac") return 42;  // "fLaC" + STREAMINFO
  if (clip.format == "ogg") return 58;   // the first page: Vorbis identification header
  return 10;                             // mp3: an ID3 header, or the first frame header
}

// A WAV whose header claims `channels` channels (bytes 22-23): the same bytes, read as a few
// frames of very many channels. Valid audio, but its decoding must not cost memory that stays.
inline std::string wav_claiming_channels(const std::string& wav, int channels) {
  std::string b = wav;
  b[22] = static_cast<char>(channels & 0xff);
  b[23] = static_cast<char>(channels >> 8);
  return b;
}

// The `index`-th malformed variant of `clip`: cycles through the kinds; the random parts are
// seeded by `index`, so the same index always gives the same bytes, whichever thread sends it.
inline MalformedUpload malformed_variant(const EncodedClip& clip, std::size_t index) {
  std::mt19937 rng(static_cast<unsigned>(index * 2654435761u) ^ static_cast<unsigned>(clip.format.size()));
  const std::string& b = clip.bytes;
  switch (index % 6) {
    case 0:
      return {clip.format + " zero-length", "", true};
    case 1:
      return {clip.format + " header only", b.substr(0, header_size(clip)), true};
    case 2:
      return {clip.format + " first 100 bytes", b.substr(0, 100), true};
    case 3: {
      const std::size_t n = std::uniform_int_distribution<std::size_t>(1, b.size() - 1)(rng);
      return {clip.format + " truncated to " + std::to_string(n) + " bytes", b.substr(0, n), false};
    }
    case 4:
      if (clip.format == "wav") {
        const int channels = std::uniform_int_distribution<int>(3, 1024)(rng);
        return {"wav claiming " + std::to_string(channels) + " channels", wav_claiming_channels(b, channels), false};
      }
      [[fallthrough]];
    default: {
      std::string flipped = b;
      const int flips = std::uniform_int_distribution<int>(1, 16)(rng);
      // Mostly in the first 512 bytes, where the container and codec headers live.
      const std::size_t span = std::min<std::size_t>(b.size(), index % 2 ? 512 : b.size());
      for (int i = 0; i < flips; ++i) {
        const std::size_t at = std::uniform_int_distribution<std::size_t>(0, span - 1)(rng);
        flipped[at] = static_cast<char>(flipped[at] ^ (1 << std::uniform_int_distribution<int>(0, 7)(rng)));
      }
      return {clip.format + " with " + std::to_string(flips) + " bits flipped", flipped, false};
    }
  }
}

}  // namespace micronet_ad::abuse
