// The streaming Detector: Frontend windows → Interpreter → scores.
#include <cstring>

#include "micronet_ad/detector.h"

namespace micronet_ad {

Status Detector::init(const DetectorConfig& config, const Model& model, Interpreter* interpreter, Frontend* frontend,
                      RealFft* fft) {
  if (interpreter == nullptr || frontend == nullptr || fft == nullptr) {
    return Status::Error("detector: interpreter, front end and FFT are required");
  }
  const TensorInfo in = model.tensor(model.input_tensor());
  const TensorInfo out = model.tensor(model.output_tensor());
  if (in.bytes != static_cast<std::size_t>(kPatchElements) || interpreter->input_bytes() != in.bytes) {
    return Status::Error("detector: model input tensor %d has %zu bytes, expected %d (one 32x32 patch)", in.index,
                         in.bytes, kPatchElements);
  }
  if (out.bytes != static_cast<std::size_t>(kNumOutputs) || interpreter->output_bytes() != out.bytes) {
    return Status::Error("detector: model output tensor %d has %zu bytes, expected %d", out.index, out.bytes,
                         kNumOutputs);
  }
  if (in.num_scales != 1 || out.num_scales != 1 || !(out.scale() > 0.0f)) {
    return Status::Error("detector: model input/output tensors need one positive quantization scale each");
  }
  FrontendConfig fe;
  fe.framing = config.framing;
  fe.resize = config.resize;
  fe.input = {in.scale(), in.zero_point};
  if (Status s = frontend->init(fe, fft); !s) return s;
  config_ = config;
  output_ = {out.scale(), out.zero_point};
  if (model.embedding_tensor() >= 0) {
    const TensorInfo e = model.tensor(model.embedding_tensor());
    embedding_ = {e.scale(), e.zero_point};
  }
  profile_ = nullptr;
  interpreter_ = interpreter;
  frontend_ = frontend;
  if (Status s = set_output_index(config.output_index); !s) return s;
  reset();
  return Status::Ok();
}

Status Detector::set_output_index(int output_index) {
  if (output_index != -1 && machine_id_of_output(output_index) == nullptr) {
    return Status::Error("detector: output index %d is not a machine ID output (0..%d, or -1 for none)", output_index,
                         kNumMachineIds - 1);
  }
  config_.output_index = output_index;
  return Status::Ok();
}

Status Detector::set_profile(const Profile* profile) {
  if (profile != nullptr) {
    if (interpreter_ == nullptr) return Status::Error("detector: set_profile() before init()");
    const ProfileHeader& h = profile->header();
    if (interpreter_->embedding() == nullptr) return Status::Error("profile: the model has no embedding (no CONV_2D)");
    if (h.embedding_size != interpreter_->embedding_bytes())
      return Status::Error("profile '%s' has embedding size %u, this model's is %zu (made for another model)", h.name,
                           static_cast<unsigned>(h.embedding_size), interpreter_->embedding_bytes());
    if (h.embedding_scale != embedding_.scale || h.embedding_zero_point != embedding_.zero_point)
      return Status::Error(
          "profile '%s' was made for an embedding quantized %g/%d, this model's is %g/%d (another model)", h.name,
          static_cast<double>(h.embedding_scale), static_cast<int>(h.embedding_zero_point),
          static_cast<double>(embedding_.scale), static_cast<int>(embedding_.zero_point));
    if (h.framing != config_.framing)
      return Status::Error("profile '%s' was made with --framing %s, scoring uses %s", h.name, to_string(h.framing),
                           to_string(config_.framing));
    if (h.resize != config_.resize)
      return Status::Error("profile '%s' was made with --resize %s, scoring uses %s", h.name, to_string(h.resize),
                           to_string(config_.resize));
  }
  profile_ = profile;
  return Status::Ok();
}

void Detector::reset() {
  if (frontend_ != nullptr) frontend_->reset();
  accumulator_.reset();
  std::memset(embedding_sum_, 0, sizeof embedding_sum_);
  embedding_windows_ = 0;
}

ClipScore Detector::result() const {
  ClipScore r = accumulator_.result();
  if (profile_ != nullptr && profile_->header().aggregate == ProfileAggregate::kClipMeanEmbedding &&
      embedding_windows_ > 0) {
    r.means[static_cast<int>(ScoreMethod::kDistance)] = profile_->distance_of_sum(embedding_sum_, embedding_windows_);
  }
  return r;
}

void Detector::add_embedding(const std::int8_t* embedding) {
  constexpr std::int64_t kMaxWindows = std::int64_t(1) << 24;  // keeps every sum within int32
  if (profile_ == nullptr || embedding_windows_ >= kMaxWindows) return;
  for (std::uint32_t j = 0; j < profile_->header().embedding_size; ++j) embedding_sum_[j] += embedding[j];
  ++embedding_windows_;
}

Status Detector::score_pending_windows() {
  while (frontend_->pop_window(&window_)) {
    std::memcpy(interpreter_->input(), window_.input, kPatchElements);
    if (Status s = interpreter_->invoke(); !s) return s;
    const std::int8_t* logits = interpreter_->output();
    const WindowScore score = score_window(logits, output_, config_.output_index, profile_, interpreter_->embedding());
    accumulator_.add(logits, score);
    add_embedding(interpreter_->embedding());
    if (observer_ != nullptr) observer_(observer_context_, window_, logits, score);
  }
  return Status::Ok();
}

Status Detector::push(const float* samples, std::size_t count) {
  if (frontend_ == nullptr) return Status::Error("detector: push() before init()");
  for (std::size_t done = 0; done < count;) {
    const std::size_t used = frontend_->push(samples + done, count - done);
    if (Status s = score_pending_windows(); !s) return s;
    if (used == 0 && frontend_->pending_windows() == 0) {
      return Status::Error("detector: the front end takes no more samples (push() after finish()?)");
    }
    done += used;
  }
  return Status::Ok();
}

Status Detector::finish() {
  if (frontend_ == nullptr) return Status::Error("detector: finish() before init()");
  if (Status s = score_pending_windows(); !s) return s;
  if (Status s = frontend_->finish(); !s) return s;
  return score_pending_windows();
}

}  // namespace micronet_ad
