// Raw PCM input for `micronet-ad stream`: interleaved s16le/f32le frames from a file descriptor
// (stdin, so `arecord ... | micronet-ad stream -` works) or captured from an ALSA device.
// Samples come out as floats in the int16 scale of docs/frontend.md (int16 x → x/32768), the same values
// libsndfile gives `score` for the same data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace micronet_ad::host {

enum class SampleFormat { kS16Le, kF32Le };
// "s16le" / "f32le"; false for anything else.
bool parse_sample_format(const std::string& text, SampleFormat* out);
const char* to_string(SampleFormat format);
std::size_t bytes_per_sample(SampleFormat format);

struct PcmFormat {
  int rate = 16000;  // Hz
  int channels = 1;
  SampleFormat format = SampleFormat::kS16Le;
};
// Throws std::invalid_argument for a rate outside 1..768000 Hz or channels outside 1..32.
void check_pcm_format(const PcmFormat& format);

enum class ReadStatus {
  kData,         // *frames > 0 frames were read
  kEnd,          // end of input (EOF); no more data will come
  kInterrupted,  // the stop descriptor became readable or a signal arrived; nothing read
};

class PcmSource {
 public:
  virtual ~PcmSource() = default;
  // Blocks (without spinning) until some frames are available, the input ends or a stop is
  // requested; then converts up to `max_frames` interleaved frames into `interleaved`.
  // Throws std::runtime_error "<name>: <what is wrong>" on read errors and non-finite samples.
  virtual ReadStatus read(float* interleaved, std::size_t max_frames, std::size_t* frames) = 0;
  // The format actually delivered (ALSA may pick a nearby rate).
  virtual const PcmFormat& format() const = 0;
  virtual const std::string& name() const = 0;
  // Bytes of an incomplete last frame dropped at end of input.
  virtual std::size_t dropped_bytes() const { return 0; }
  // Capture overruns recovered from (ALSA): audio was lost there.
  virtual std::int64_t overruns() const { return 0; }
};

// Reads `fd` (not owned). A read may return any number of bytes: partial frames are kept for
// the next read, so any chunking of the byte stream gives the same samples. `stop_fd` (-1:
// none) ends a blocking wait when it becomes readable (e.g. a signal handler's self-pipe).
std::unique_ptr<PcmSource> open_fd_source(int fd, const PcmFormat& format, const std::string& name, int stop_fd = -1);

// Captures from ALSA device `device` (e.g. "default", "hw:0", "null"). Throws
// std::runtime_error "cannot open ALSA device '<device>': <reason>" when it cannot be opened or
// does not accept the format. The wait for data wakes at least every 100 ms to look at `stop_fd`.
std::unique_ptr<PcmSource> open_alsa_source(const std::string& device, const PcmFormat& format, int stop_fd = -1);

// Converts little-endian samples to int16-scale floats. Non-finite f32 samples: returns the index
// of the first one, else -1.
std::int64_t convert_samples(const unsigned char* bytes, std::size_t samples, SampleFormat format, float* out);

}  // namespace micronet_ad::host
