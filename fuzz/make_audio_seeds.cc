// Writes tiny audio files (0.1 s of a synthetic chirp, a few hundred bytes to a few KB) as seeds
// for fuzz_audio_decoder: one per decoder path (WAV, FLAC, Ogg Vorbis, Ogg Opus, MP3, AIFF, CAF,
// …), mono and stereo, at 16 kHz and at rates that take the resampler.
//   make_audio_seeds <directory>
#include <sndfile.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace {

struct Seed {
  const char* name;
  int format;
  int rate;
  int channels;
};

const Seed kSeeds[] = {
    {"pcm16.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1},
    {"float_stereo_44k.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 44100, 2},
    {"ulaw_8k.wav", SF_FORMAT_WAV | SF_FORMAT_ULAW, 8000, 1},
    {"imaadpcm.wav", SF_FORMAT_WAV | SF_FORMAT_IMA_ADPCM, 16000, 1},
    {"pcm24.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_24, 48000, 2},
    {"pcm16.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 16000, 1},
    {"vorbis.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, 16000, 1},
    {"vorbis_stereo_22k.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, 22050, 2},
    {"opus.opus", SF_FORMAT_OGG | SF_FORMAT_OPUS, 16000, 1},
    {"layer3.mp3", SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 16000, 1},
    {"layer3_stereo_32k.mp3", SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 32000, 2},
    {"pcm16.aiff", SF_FORMAT_AIFF | SF_FORMAT_PCM_16, 16000, 1},
    {"float.caf", SF_FORMAT_CAF | SF_FORMAT_FLOAT, 16000, 1},
    {"pcm16.au", SF_FORMAT_AU | SF_FORMAT_PCM_16, 11025, 1},
    {"pcm16.w64", SF_FORMAT_W64 | SF_FORMAT_PCM_16, 16000, 1},
    {"pcm16.rf64", SF_FORMAT_RF64 | SF_FORMAT_PCM_16, 16000, 1},
};

bool write_seed(const std::string& path, const Seed& seed) {
  const int frames = seed.rate / 10;
  std::vector<float> x(static_cast<std::size_t>(frames) * seed.channels);
  for (int i = 0; i < frames; ++i) {
    const double t = static_cast<double>(i) / seed.rate;
    for (int c = 0; c < seed.channels; ++c)
      x[static_cast<std::size_t>(i) * seed.channels + c] =
          static_cast<float>(0.4 * std::sin(2 * M_PI * (300 + 4000 * t) * t + c));
  }
  SF_INFO info{};
  info.samplerate = seed.rate;
  info.channels = seed.channels;
  info.format = seed.format;
  SNDFILE* file = sf_open(path.c_str(), SFM_WRITE, &info);
  if (file == nullptr) return false;
  const bool ok = sf_writef_float(file, x.data(), frames) == frames;
  return sf_close(file) == 0 && ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_audio_seeds <directory>\n");
    return 2;
  }
  for (const Seed& seed : kSeeds) {
    const std::string path = std::string(argv[1]) + "/seed_" + seed.name;
    if (!write_seed(path, seed)) {
      std::fprintf(stderr, "make_audio_seeds: cannot write %s: %s\n", path.c_str(), sf_strerror(nullptr));
      return 1;
    }
  }
  return 0;
}
