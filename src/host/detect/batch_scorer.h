// Scoring many clips: which files a command's path arguments name, and a small pool of threads
// (one ClipScorer each) that hands results back in input order. score, eval and calibrate share it.
#pragma once

#include <array>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "host/detect/clip_scorer.h"
#include "host/detect/profile_set.h"
#include "micronet_ad/frontend.h"
#include "micronet_ad/model.h"

namespace micronet_ad::host {

// A clip to score, or an argument that failed before scoring (e.g. a directory without audio).
struct ClipInput {
  std::string path;
  std::string error;
};

// Files stay as given (whatever their extension); directories are searched recursively for audio
// files, sorted by path. A directory that cannot be listed or holds no audio becomes an input
// with an error, so the caller reports it with the clips' own failures.
std::vector<ClipInput> expand_audio_inputs(const std::vector<std::string>& args);

struct ClipOutcome {
  std::optional<ClipResult> result;  // empty on failure
  int output_index = -1;
  std::string error;     // starts with the clip's path
  double seconds = 0.0;  // the decoded clip's length (at 16 kHz)
  int source_rate = 0;   // Hz, as stored in the file
  // Every frame's log-mel dB values (before the +30 shift), when BatchOptions::keep_logmel.
  std::vector<std::array<float, kMelBands>> logmel;
};

struct BatchOptions {
  Framing framing = Framing::kCentered;
  Resize resize = Resize::kAverage;
  std::string machine_id;  // every clip's ID; empty: from the DCASE file names
  int threads = 0;         // 0: one per core
  bool keep_logmel = false;
  // Score by distance too, each clip with its machine's profile (profile_set.h); the clip's
  // machine then need not be one the model has an output for. Must outlive the scoring.
  const ProfileSet* profiles = nullptr;
  // Longest clip in seconds of source audio (0: no limit); a longer one fails before it is decoded.
  double max_seconds = 0.0;
  // Clips need no machine the model has an output for (enrolment wants only the embeddings).
  bool any_machine = false;
  KernelSet kernels = KernelSet::kAuto;  // every kernel set gives the same bytes
  // Called on the worker threads (so it must be thread-safe) after every kProgressSamples of a
  // clip longer than that: the clip's index, its samples scored so far and in all.
  std::function<void(std::size_t index, std::size_t done, std::size_t total)> clip_progress = nullptr;
};
// One minute of 16 kHz audio: how often clip_progress reports (pushing in chunks gives the same
// bytes as pushing a clip whole: the Detector is a stream).
inline constexpr std::size_t kProgressSamples = 16000 * 60;

// Workers actually used for `inputs` clips: `requested` (0: one per core), at most one per clip.
int batch_workers(int requested, std::size_t inputs);

// Scores every input on batch_workers() threads and calls `emit(index, outcome)` on the calling
// thread in input order, each as soon as it and all before it are done. A clip that fails (or a
// scorer that cannot be built) gives an outcome with an error. If emit throws, the workers stop
// after their current clip and the exception is rethrown.
void score_clips(const Model& model, const BatchOptions& options, const std::vector<ClipInput>& inputs,
                 const std::function<void(std::size_t index, ClipOutcome& outcome)>& emit);

}  // namespace micronet_ad::host
