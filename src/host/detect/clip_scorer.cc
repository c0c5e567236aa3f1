#include "host/detect/clip_scorer.h"

#include <algorithm>
#include <stdexcept>

namespace micronet_ad::host {
namespace {

void check(const Status& status, const char* what) {
  if (!status) throw std::runtime_error(std::string(what) + ": " + status.message());
}

}  // namespace

ClipScorer::ClipScorer(const Model& model, Framing framing, Resize resize, KernelSet kernels)
    : engine_(model, kernels), frontend_(std::make_unique<Frontend>()), detector_(std::make_unique<Detector>()) {
  DetectorConfig config;
  config.framing = framing;
  config.resize = resize;
  check(detector_->init(config, model, &engine_.interpreter(), frontend_.get(), &fft_), "detector");
  detector_->set_window_observer(&ClipScorer::on_window, this);
}

void ClipScorer::on_window(void* context, const Window&, const std::int8_t* logits, const WindowScore& score) {
  ClipScorer* self = static_cast<ClipScorer*>(context);
  ClipResult* result = self->current_;
  result->window_scores.emplace_back();
  std::copy_n(score.values, kNumScoreMethods, result->window_scores.back().begin());
  result->outputs.emplace_back();
  std::copy_n(logits, kNumOutputs, result->outputs.back().begin());
  const Interpreter& interpreter = self->engine_.interpreter();
  if (interpreter.embedding() != nullptr) {
    result->embeddings.insert(result->embeddings.end(), interpreter.embedding(),
                              interpreter.embedding() + interpreter.embedding_bytes());
  }
}

std::vector<double> ClipResult::window_scores_of(ScoreMethod method) const {
  std::vector<double> out;
  out.reserve(window_scores.size());
  for (const auto& w : window_scores) out.push_back(w[static_cast<int>(method)]);
  return out;
}

ClipResult ClipScorer::score(const float* samples, std::size_t count, int output_index, std::size_t chunk,
                             const Profile* profile) {
  ClipResult result;
  // Sized up front: the per-window vectors then grow without reallocating.
  const Framing framing = detector_->config().framing;
  const auto padded = std::max<std::int64_t>(static_cast<std::int64_t>(count), min_clip_samples(framing));
  const auto windows = static_cast<std::size_t>(window_count(frame_count(framing, padded)));
  result.window_scores.reserve(windows);
  result.outputs.reserve(windows);
  result.embeddings.reserve(windows * engine_.interpreter().embedding_bytes());
  result.profile = profile;
  current_ = &result;
  detector_->reset();
  check(detector_->set_output_index(output_index), "detector");
  check(detector_->set_profile(profile), "detector");
  const std::size_t step = chunk == 0 ? std::max<std::size_t>(count, 1) : chunk;
  for (std::size_t begin = 0; begin < count; begin += step) {
    check(detector_->push(samples + begin, std::min(step, count - begin)), "detector");
    if (progress_ && begin + step < count) progress_(begin + step, count);
  }
  check(detector_->finish(), "detector");
  current_ = nullptr;
  result.clip = detector_->result();
  return result;
}

int clip_output_index(const std::string& path, const std::string& machine_id, bool optional) {
  std::string id = machine_id;
  if (id.empty()) {
    char parsed[16];
    const Status s = machine_id_from_file_name(path.c_str(), parsed, sizeof parsed);
    if (!s && optional) return -1;
    if (!s) throw std::runtime_error(path + ": " + s.message() + " (--machine-id)");
    id = parsed;
  }
  int index = -1;
  const Status s = output_of_machine_id(id.c_str(), &index);
  if (!s && optional) return -1;
  if (!s) throw std::runtime_error(path + ": " + s.message());
  return index;
}

}  // namespace micronet_ad::host
