// micronet-ad: the audio front end (docs/frontend.md) — 16 kHz mono float samples in, 32x32 patches and
// int8 model inputs out, streaming.
//
//   samples ─push()─> Framer ──1024-sample frames──> LogMel ──64 dB──> WindowAssembler ─pop_window()─>
//                     (centered|kit)                 (Hann, FFT,        (ring of 64 frames,
//                                                     Slaney mel, dB)    average|decimate, +30, int8)
//
// Core rules: no I/O, no exceptions, no heap (every buffer is a fixed-size member), C++ standard
// library only. The FFT is supplied by the caller through RealFft (the host uses FFTW;
// KissFFT fits too).
#pragma once

#include <cstddef>
#include <cstdint>

#include "micronet_ad/status.h"

namespace micronet_ad {

// ---- constants (docs/frontend.md) ------------------------------------------------------------
inline constexpr int kSampleRateHz = 16000;
inline constexpr int kFrameLength = 1024;  // samples per frame = FFT size
inline constexpr int kHopLength = 512;
inline constexpr int kSpectrumBins = kFrameLength / 2 + 1;  // DFT bins 0..512 delivered by RealFft
inline constexpr int kPowerBins = kFrameLength / 2;         // bins 0..511 feed the mel filters
inline constexpr int kMelBands = 64;
inline constexpr double kMelMaxHz = 8000.0;
inline constexpr int kWindowFrames = 64;  // frames per window
inline constexpr int kWindowStride = 20;  // frames between consecutive windows
inline constexpr int kPatchSide = 32;
inline constexpr int kPatchElements = kPatchSide * kPatchSide;
inline constexpr double kDbShift = 30.0;  // x = dB − (−30), the kit's training mean

enum class Framing : std::uint8_t {
  kCentered,  // reflection-pad 512 samples at both ends (librosa, DCASE baseline; training data)
  kKit,       // no padding (Arm's evaluation kit)
};
enum class Resize : std::uint8_t {
  kAverage,   // mean of 2x2 blocks (frames 2t,2t+1 x bands 2m,2m+1) of dB values
  kDecimate,  // frame 2t, band 2m (Arm's kit)
};
const char* to_string(Framing framing);
const char* to_string(Resize resize);
// "centered"/"kit" and "average"/"decimate"; false for anything else.
bool parse_framing(const char* text, Framing* out);
bool parse_resize(const char* text, Resize* out);

// The model's input tensor quantization (docs/models.md), passed in so the front end does not depend on
// the engine.
struct InputQuantization {
  float scale = 0.0f;
  std::int32_t zero_point = 0;
};

struct FrontendConfig {
  Framing framing = Framing::kCentered;
  Resize resize = Resize::kAverage;
  InputQuantization input;  // required: scale > 0
};

// q = clamp(round(x / scale + zero_point), −128, 127), rounding half away from zero, computed in
// double. A NaN maps to −128. Inline: it runs for every patch element.
inline std::int8_t quantize_input(double x, InputQuantization params) {
  const double v = x / static_cast<double>(params.scale) + params.zero_point;
  if (!(v > -128.5)) return -128;  // also catches NaN, whose cast would be undefined
  if (v >= 127.5) return 127;
  // round(v) half away from zero without a libm call (baseline x86-64 has no roundsd), branch-free
  // (which side of ±0.5 the fraction lies is data, not a pattern): t and v − t are exact here.
  const int t = static_cast<int>(v);
  const double fraction = v - t;
  return static_cast<std::int8_t>(t + (fraction >= 0.5) - (fraction <= -0.5));
}

// Frames a stream of `samples` samples yields (0 if too short for one frame; no zero padding).
std::int64_t frame_count(Framing framing, std::int64_t samples);
// Windows `frames` frames yield (window k uses frames 20k … 20k+63).
std::int64_t window_count(std::int64_t frames);
// Clips shorter than this are zero-padded (with digital silence, at the sample level, before
// framing) to exactly this many samples, which gives exactly one window:
// centered 32,256 samples (64 frames), kit 33,280 samples.
std::int64_t min_clip_samples(Framing framing);

// ---- FFT interface ---------------------------------------------------------------------------
// A 1024-point real forward DFT, X[k] = Σ x[n]·e^(−2πikn/1024), unscaled.
class RealFft {
 public:
  // in: kFrameLength samples. out: bins 0..512 as interleaved (re, im): out[2k], out[2k+1].
  virtual void forward(const float* in, float* out) = 0;

 protected:
  ~RealFft() = default;  // not owned through this interface
};

// ---- building blocks -------------------------------------------------------------------------
// 64 Slaney-scale triangular filters over 0–8000 Hz, linear in mel, with Slaney area
// normalisation 2/(f_right − f_left). Weights are computed in double, stored sparsely.
class MelFilterbank {
 public:
  MelFilterbank();
  // energy[m] = FLT_MIN + Σ_k w[m][k]·power[k] over bins 0..511, accumulated in double.
  void apply(const double* power, double* energy) const;
  // Dense view of one weight (0 outside the band's support); for tests and tools.
  double weight(int band, int bin) const;
  // Weight of a DFT bin computed in double from the definition (any bin, including 512).
  static double reference_weight(int band, int bin);

 private:
  // Every bin lies in at most two neighbouring triangles, which bounds the storage.
  static constexpr int kMaxWeights = 2 * kPowerBins;
  std::int16_t first_bin_[kMelBands] = {};
  std::int16_t bin_count_[kMelBands] = {};
  std::int16_t offset_[kMelBands] = {};
  float weights_[kMaxWeights] = {};
};

// One frame → 64 log-mel dB values: periodic Hann, real FFT, |X|², mel filterbank, 10·log10.
class LogMel {
 public:
  LogMel();  // builds the Hann window and the filterbank
  explicit LogMel(RealFft* fft) : LogMel() { set_fft(fft); }
  void set_fft(RealFft* fft) { fft_ = fft; }
  // frame: kFrameLength samples (int16 scale: x/32768). db: kMelBands values. Needs an FFT.
  void compute(const float* frame, float* db);

 private:
  RealFft* fft_ = nullptr;
  MelFilterbank filterbank_;
  float window_[kFrameLength] = {};
  // Aligned for SIMD FFTs (FFTW transforms them in place of its own buffers only when aligned).
  alignas(64) float windowed_[kFrameLength] = {};
  alignas(64) float spectrum_[2 * kSpectrumBins] = {};
  double power_[kPowerBins] = {};
  double energy_[kMelBands] = {};
};

// Cuts a sample stream into 1024-sample frames, hop 512, with the chosen framing. Pull style:
// feed() stops as soon as a frame is ready; the caller takes it and calls advance().
class Framer {
 public:
  void reset(Framing framing);
  // Consumes up to `count` samples; returns how many. Consumes nothing while a frame is ready.
  std::size_t feed(const float* samples, std::size_t count);
  // Marks the end of the input. Then call feed_tail() until it returns true: it appends the
  // zero padding up to min_clip_samples() and, in centered framing, the end reflection.
  void end_input();
  bool feed_tail();
  bool frame_ready() const { return length_ >= kFrameLength; }
  const float* frame() const { return buffer_; }           // valid while frame_ready()
  void advance();                                          // drops the ready frame's first hop
  std::int64_t samples_fed() const { return raw_count_; }  // real input samples, no padding
  bool ended() const { return ended_; }

 private:
  // Appends one sample of the clip (real or zero padding) to the padded stream.
  void append_clip_sample(float sample);
  // Records `count` clip samples just copied to the buffer in the tail ring and the count.
  void remember_tail(const float* samples, std::size_t count);

  // Longest end reflection is 512 samples: x[N−2] … x[N−513] needs the last 513 raw samples.
  static constexpr int kTailKeep = kHopLength + 1;

  Framing framing_ = Framing::kCentered;
  // Padded-stream samples from the current frame start. Centered framing collects x[0..512]
  // at offset 512 before the reflected prefix x[512..1] can be written in front.
  float buffer_[kFrameLength + kHopLength] = {};
  int length_ = 0;
  bool prefix_done_ = false;
  std::int64_t raw_count_ = 0;   // real samples fed
  std::int64_t clip_count_ = 0;  // real + zero-padding samples
  float tail_[kTailKeep] = {};   // ring of the last raw samples (for the end reflection)
  bool ended_ = false;
  std::int64_t zeros_left_ = 0;
  int reflection_left_ = 0;
};

// A completed window: the 32x32 patch (after the +30 shift) and the model input.
struct Window {
  std::int64_t index = 0;                  // k
  std::int64_t first_frame = 0;            // 20k
  float patch[kPatchElements] = {};        // tensor order: patch[m*32 + t], rows = mel
  std::int8_t input[kPatchElements] = {};  // quantized patch, same order
};

// Keeps the last 64 frames' dB values and turns them into a window every 20 frames.
class WindowAssembler {
 public:
  void reset(const FrontendConfig& config);
  // True when adding frame `frames_added()` would complete a window.
  bool next_frame_completes_window() const;
  // Stores one frame; if it completes a window, fills *out (when non-null) and returns true.
  bool add_frame(const float* db, Window* out);
  std::int64_t frames_added() const { return frames_; }

 private:
  void build(std::int64_t first_frame, Window* out) const;
  const float* frame_db(std::int64_t frame) const { return ring_[frame % kWindowFrames]; }

  FrontendConfig config_;
  float ring_[kWindowFrames][kMelBands] = {};
  std::int64_t frames_ = 0;
};

// Receives every frame's 64 dB values (before the +30 shift) as soon as it is computed.
class FrameObserver {
 public:
  virtual void on_frame(std::int64_t frame_index, const float* db) = 0;

 protected:
  ~FrameObserver() = default;
};

// ---- the streaming front end -----------------------------------------------------------------
// Usage:
//   Frontend fe;  fe.init(config, &fft);
//   for each chunk: for (size_t done = 0; done < n;) { done += fe.push(x + done, n - done);
//                                                      while (fe.pop_window(&w)) use(w); }
//   fe.finish();  while (fe.pop_window(&w)) use(w);
// Each frame's log-mel is computed exactly once. A Frontend is large (~60 KB): make it static or
// a long-lived member, not a stack variable on a microcontroller.
class Frontend {
 public:
  // Completed windows wait here until popped; push() stops early when it is full.
  static constexpr int kMaxPendingWindows = 2;

  // Validates the config and builds the tables. `fft` must outlive the Frontend.
  Status init(const FrontendConfig& config, RealFft* fft);
  // Starts a new stream with the same config.
  void reset();
  // Optional; called for every frame (nullptr to stop).
  void set_frame_observer(FrameObserver* observer) { observer_ = observer; }

  // Consumes up to `count` samples (16 kHz mono, int16 scale) and returns how many: all of them,
  // unless kMaxPendingWindows windows wait to be popped. Returns 0 after finish() or before init().
  std::size_t push(const float* samples, std::size_t count);
  // Ends the stream: zero-pads a clip shorter than one window to one window (sample level), adds
  // the end reflection (centered), completes the last window. Frames after the last complete
  // window are dropped. An empty stream is an error and yields no window. Pop every pending
  // window before calling finish().
  Status finish();
  // Moves the oldest completed window into *out; false when none is pending.
  bool pop_window(Window* out);
  int pending_windows() const { return queue_count_; }

  const FrontendConfig& config() const { return config_; }
  std::int64_t samples_pushed() const { return framer_.samples_fed(); }
  std::int64_t frames_computed() const { return assembler_.frames_added(); }
  std::int64_t windows_completed() const { return windows_completed_; }
  bool finished() const { return finished_; }

 private:
  // Computes the ready frame unless that would complete a window with no room; false then.
  bool process_ready_frames();

  FrontendConfig config_;
  bool initialised_ = false;
  bool finished_ = false;
  FrameObserver* observer_ = nullptr;
  Framer framer_;
  LogMel log_mel_;
  WindowAssembler assembler_;
  float frame_db_[kMelBands] = {};
  Window queue_[kMaxPendingWindows];
  int queue_head_ = 0;
  int queue_count_ = 0;
  std::int64_t windows_completed_ = 0;
};

}  // namespace micronet_ad
