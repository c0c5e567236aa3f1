// Host wrapper around the core Detector: one model, one front-end config, many clips.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "host/audio/host_real_fft.h"
#include "host/io/model_file.h"
#include "micronet_ad/detector.h"

namespace micronet_ad::host {

struct ClipResult {
  ClipScore clip;
  std::vector<std::array<double, kNumScoreMethods>> window_scores;  // each window's score, by ScoreMethod
  std::vector<std::array<std::int8_t, kNumOutputs>> outputs;        // raw int8 outputs of each window
  std::vector<std::int8_t> embeddings;  // each window's int8 embedding (windows × embedding size)
  const Profile* profile = nullptr;     // the profile distance was scored against, if any
  // One method's score of every window.
  std::vector<double> window_scores_of(ScoreMethod method) const;
};

// Owns what the Detector wires together (Engine, Frontend, FFT). Not thread-safe: use one per
// thread. `model` must outlive it.
class ClipScorer {
 public:
  // `kernels`: which kernels run the model (all give the same bytes; reference is the truth).
  ClipScorer(const Model& model, Framing framing, Resize resize, KernelSet kernels = KernelSet::kAuto);
  // Scores 16 kHz mono samples (int16 scale) as the clip of machine output `output_index` (−1:
  // none), and by distance from `profile` when given, pushing `chunk` samples at a time (0: all
  // at once). Throws std::runtime_error on failure (e.g. a profile made for another model).
  ClipResult score(const float* samples, std::size_t count, int output_index, std::size_t chunk = 0,
                   const Profile* profile = nullptr);
  ClipResult score(const std::vector<float>& samples, int output_index, const Profile* profile = nullptr) {
    return score(samples.data(), samples.size(), output_index, 0, profile);
  }
  Interpreter& interpreter() { return engine_.interpreter(); }  // e.g. for an op observer
  // Called between the chunks score() pushes, with the samples pushed so far and the clip's:
  // e.g. a progress bar inside a long clip. Not after the last chunk.
  using Progress = std::function<void(std::size_t done, std::size_t total)>;
  void set_progress(Progress progress) { progress_ = std::move(progress); }

 private:
  static void on_window(void* context, const Window& window, const std::int8_t* logits, const WindowScore& score);

  Engine engine_;
  HostRealFft fft_;
  std::unique_ptr<Frontend> frontend_;  // ~60 KB: off the stack
  std::unique_ptr<Detector> detector_;  // holds a ~5 KB window
  ClipResult* current_ = nullptr;
  Progress progress_;
};

// Output index of the clip's machine ID: `machine_id` when not empty, else the DCASE file name.
// Throws std::runtime_error "<path>: <what is wrong>" — unless `optional`, which gives −1 for a
// machine the model has no output for (scoring by distance needs none).
int clip_output_index(const std::string& path, const std::string& machine_id, bool optional = false);

}  // namespace micronet_ad::host
