// micronet-ad: anomaly scores from model outputs (docs/scores.md), and the streaming Detector that
// wires the front end to the interpreter.
//
//   samples ─push()─> Frontend ──int8 windows──> Interpreter ──8 int8 logits──> score_window()
//                                                                            └─> ClipAccumulator
//
// Core rules: no I/O, no exceptions, no heap, C++ standard library only.
#pragma once

#include <cstddef>
#include <cstdint>

#include "micronet_ad/frontend.h"
#include "micronet_ad/interpreter.h"
#include "micronet_ad/model.h"
#include "micronet_ad/profile.h"
#include "micronet_ad/status.h"

namespace micronet_ad {

inline constexpr int kNumOutputs = 8;     // model outputs; only 0..3 carry a machine ID
inline constexpr int kNumMachineIds = 4;  // ML-zoo labels id0, id2, id4, id6
// A clip is degenerate when no output moves more than this many quantization steps...
inline constexpr int kDegenerateMaxSteps = 2;
// ...across at least this many windows (fewer windows say too little about the model).
inline constexpr std::int64_t kDegenerateMinWindows = 4;

// ---- labels ----------------------------------------------------------------------------------
// "00", "02", "04", "06" for outputs 0..3; nullptr for any other index.
const char* machine_id_of_output(int output_index);
// Output index of a machine ID ("00" or "id_00"). An unknown ID is an error listing the known ones.
Status output_of_machine_id(const char* machine_id, int* output_index);
// The machine ID in a DCASE clip name `{normal,anomaly}_id_XX_NNNNNNNN.wav` (directories are
// ignored): the third `_` field — generally, the digits after the first `id_` field (the kit's
// kit_random_id_00_000000.wav too). Copied into `out` (capacity `out_size`, NUL-terminated).
Status machine_id_from_file_name(const char* path, char* out, std::size_t out_size);

// ---- scoring ---------------------------------------------------------------------------------
// One scoring interface (docs/enrolment.md): window → score per method → clip mean → decision.
// A method is computed for every window where it applies; a new method is one enum value here
// and one case in score_window() (scorer.cc).
enum class ScoreMethod : std::uint8_t {
  kNegSoftmax,  // −p[id]: the kit's and the paper's score; needs a machine-ID output
  kNll,         // −log p[id]; needs a machine-ID output
  kDistance,    // distance from a machine profile (profile.h); needs a profile
};
inline constexpr int kNumScoreMethods = 3;
const char* score_method_name(ScoreMethod method);  // "neg_softmax", "nll", "distance"
bool parse_score_method(const char* text, ScoreMethod* out);

// The one decision rule: a score above its threshold is anomalous.
inline bool is_anomalous(double score, double threshold) { return score > threshold; }

struct OutputQuantization {
  float scale = 0.0f;
  std::int32_t zero_point = 0;
};

struct WindowScore {
  double probabilities[kNumOutputs] = {};  // softmax over all 8 dequantized logits
  double values[kNumScoreMethods] = {};    // by ScoreMethod; NaN where the method does not apply
  double operator[](ScoreMethod method) const { return values[static_cast<int>(method)]; }
};

// Dequantizes the logits and applies a numerically stable softmax in double.
void softmax(const std::int8_t* logits, OutputQuantization quantization, double* probabilities);
// Every method's window score. output_index −1: no machine-ID output (softmax methods NaN);
// profile nullptr: no distance (NaN). `embedding` is the interpreter's embedding tensor.
WindowScore score_window(const std::int8_t* logits, OutputQuantization quantization, int output_index,
                         const Profile* profile = nullptr, const std::int8_t* embedding = nullptr);

struct ClipScore {
  std::int64_t windows = 0;
  // Mean of each method's window scores (higher = more anomalous); NaN where it does not apply.
  // For nll that is the mean of −log p[id] (golden meta.json's "nll"), not −log of the mean p.
  double means[kNumScoreMethods] = {};
  double operator[](ScoreMethod method) const { return means[static_cast<int>(method)]; }
  double mean_probabilities[kNumOutputs] = {};
  // argmax of the mean softmax over the known IDs (outputs 0..3) only: 4..7 are untrained, and
  // a barely responding model can put its largest (near-uniform) mass there.
  int predicted_output = -1;
  // Health: each output's int8 range over the clip's windows.
  std::int8_t output_min[kNumOutputs] = {};
  std::int8_t output_max[kNumOutputs] = {};
  int max_output_range() const;  // largest max − min, in quantization steps
  bool degenerate() const;       // ≥ kDegenerateMinWindows windows, every range ≤ kDegenerateMaxSteps
};

class ClipAccumulator {
 public:
  void reset();
  void add(const std::int8_t* logits, const WindowScore& score);
  ClipScore result() const;  // all zero with predicted_output −1 when no window was added
  std::int64_t windows() const { return windows_; }

 private:
  std::int64_t windows_ = 0;
  double sums_[kNumScoreMethods] = {};
  double probability_sum_[kNumOutputs] = {};
  std::int8_t min_[kNumOutputs] = {};
  std::int8_t max_[kNumOutputs] = {};
};

// ---- the streaming detector ------------------------------------------------------------------
struct DetectorConfig {
  Framing framing = Framing::kCentered;
  Resize resize = Resize::kAverage;
  int output_index = 0;  // the clip's machine-ID output (output_of_machine_id), or −1 for none
};

// Called for every scored window, in order (e.g. to keep per-window scores or raw outputs).
using WindowObserver = void (*)(void* context, const Window& window, const std::int8_t* logits,
                                const WindowScore& score);

// Wires a Frontend, an Interpreter and a ClipAccumulator together. It owns neither the front end
// nor the interpreter (both large, both reusable by other tools); it only keeps one window's
// scratch buffer. Usage:
//   det.init(config, model, &interpreter, &frontend, &fft);
//   for each chunk: det.push(x, n);       // windows are scored as they complete
//   det.finish();  det.result();          // then det.reset() for the next clip
class Detector {
 public:
  // `interpreter` must already be initialised with `model`; `frontend` is (re)initialised here
  // with the model's input quantization. All must outlive the Detector.
  Status init(const DetectorConfig& config, const Model& model, Interpreter* interpreter, Frontend* frontend,
              RealFft* fft);
  // Starts a new clip, optionally for another machine ID.
  void reset();
  Status set_output_index(int output_index);
  // Scores distance from `profile` too (nullptr: no longer). Refuses a profile whose embedding
  // size, quantization, framing or resize differ from this model's and config's, saying which.
  // The profile must outlive its use here.
  Status set_profile(const Profile* profile);
  const Profile* profile() const { return profile_; }
  void set_window_observer(WindowObserver observer, void* context) {
    observer_ = observer;
    observer_context_ = context;
  }

  // Consumes all `count` samples (16 kHz mono, int16 scale), scoring every window completed.
  Status push(const float* samples, std::size_t count);
  // Ends the clip (zero-pads a short one to one window) and scores the remaining windows.
  Status finish();

  // The clip so far; distance aggregated as the profile says (ProfileAggregate).
  ClipScore result() const;
  const ClipAccumulator& accumulator() const { return accumulator_; }
  OutputQuantization output_quantization() const { return output_; }
  const DetectorConfig& config() const { return config_; }

 private:
  Status score_pending_windows();
  void add_embedding(const std::int8_t* embedding);

  DetectorConfig config_;
  OutputQuantization output_;
  OutputQuantization embedding_;  // the embedding tensor's quantization
  Interpreter* interpreter_ = nullptr;
  const Profile* profile_ = nullptr;
  Frontend* frontend_ = nullptr;
  ClipAccumulator accumulator_;
  WindowObserver observer_ = nullptr;
  void* observer_context_ = nullptr;
  Window window_;  // scratch for the window being scored
  // Element-wise sum of the clip's int8 embeddings (for ProfileAggregate::kClipMeanEmbedding).
  // int32 holds 2^24 windows of ±128 (about 155 days of audio); later windows are not added.
  std::int32_t embedding_sum_[kProfileMaxEmbedding] = {};
  std::int64_t embedding_windows_ = 0;
};

}  // namespace micronet_ad
