// Live scoring of a PCM stream: the core Detector fed as samples arrive, one event per window as
// soon as it is complete, in constant memory (nothing is kept per window).
//
//   PcmSource ─read()─> StreamResampler (to 16 kHz mono) ─push()─> Detector ─observer─> on_window
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>

#include "host/audio/host_real_fft.h"
#include "host/io/model_file.h"
#include "host/stream/pcm_source.h"
#include "micronet_ad/detector.h"

namespace micronet_ad::host {

struct StreamOptions {
  Framing framing = Framing::kCentered;
  Resize resize = Resize::kAverage;
  KernelSet kernels = KernelSet::kAuto;  // every set gives the same bytes
  int output_index = 0;                  // the machine ID's output (−1: none)
  const Profile* profile = nullptr;      // score by distance from it too (must outlive the scorer)
  double max_seconds = 0.0;              // stop after this much input audio (0: until the input ends)
  bool input_digest = false;             // SHA-1 of each window's int8 model input (to compare runs)
};

struct WindowEvent {
  std::int64_t index = 0;
  double start_seconds = 0.0;  // the window's span in the input (16 kHz samples / 16000)
  double end_seconds = 0.0;
  WindowScore score;  // this window
  ClipScore running;  // all windows so far (the running clip score)
  // From the read() that delivered the window's last sample to this event (EOF for the windows
  // completed at the end).
  double latency_ms = 0.0;
  std::string input_sha1;  // when StreamOptions::input_digest
};

// Latency percentiles in constant memory: a histogram with log-spaced bins (about 1 % wide)
// from 1 µs to 100 s.
class LatencyHistogram {
 public:
  void add(double milliseconds);
  std::int64_t count() const { return count_; }
  double percentile(double p) const;  // upper edge of the bin holding the p-quantile (0 if empty)
  double max() const { return max_; }
  double mean() const { return count_ ? sum_ / static_cast<double>(count_) : 0.0; }

 private:
  static constexpr int kBins = 800;  // 8 decades × 100 bins
  std::array<std::int64_t, kBins> bins_{};
  std::int64_t count_ = 0;
  double sum_ = 0.0, max_ = 0.0;
};

enum class StreamEnd { kEndOfInput, kSignal, kMaxSeconds };
const char* to_string(StreamEnd end);

struct StreamSummary {
  StreamEnd end = StreamEnd::kEndOfInput;
  ClipScore clip;
  std::int64_t samples = 0;        // 16 kHz samples pushed
  std::int64_t source_frames = 0;  // frames read from the source
  std::size_t dropped_bytes = 0;   // incomplete last frame
  std::int64_t overruns = 0;
  LatencyHistogram latency;
};

// Not thread-safe; one stream at a time. `model` must outlive it.
class StreamScorer {
 public:
  StreamScorer(const Model& model, const StreamOptions& options);
  ~StreamScorer();

  // Reads `source` until it ends, a stop is requested (`stop` returns true; checked whenever the
  // source returns kInterrupted) or max_seconds of audio was read; then ends the clip (centered
  // framing's end reflection, zero padding of a clip shorter than one window) so its last windows
  // are scored too. Throws std::runtime_error on read errors, when `on_window` throws, or when the
  // input holds no audio at all.
  StreamSummary run(PcmSource& source, const std::function<bool()>& stop,
                    const std::function<void(const WindowEvent&)>& on_window);

 private:
  static void on_window(void* context, const Window& window, const std::int8_t* logits, const WindowScore& score);

  StreamOptions options_;
  Engine engine_;
  HostRealFft fft_;
  std::unique_ptr<Frontend> frontend_;  // ~60 KB: off the stack
  std::unique_ptr<Detector> detector_;
  // Per run: the event sink, when the current chunk arrived, the latencies.
  const std::function<void(const WindowEvent&)>* sink_ = nullptr;
  std::chrono::steady_clock::time_point arrival_;
  StreamSummary* summary_ = nullptr;
  std::exception_ptr error_;  // from the sink, rethrown after the Detector returns
};

}  // namespace micronet_ad::host
