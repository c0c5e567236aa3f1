// Window and clip scores (SPEC §4).
#include <cmath>

#include "micronet_ad/detector.h"

namespace micronet_ad {

void softmax(const std::int8_t* logits, OutputQuantization quantization, double* probabilities) {
  double x[kNumOutputs];
  double max = -HUGE_VAL;
  for (int i = 0; i < kNumOutputs; ++i) {
    x[i] = static_cast<double>(quantization.scale) * (static_cast<double>(logits[i]) - quantization.zero_point);
    if (x[i] > max) max = x[i];
  }
  double sum = 0.0;
  for (int i = 0; i < kNumOutputs; ++i) {
    probabilities[i] = std::exp(x[i] - max);  // shifting by the max keeps exp() ≤ 1
    sum += probabilities[i];
  }
  for (int i = 0; i < kNumOutputs; ++i) probabilities[i] /= sum;
}

WindowScore score_window(const std::int8_t* logits, OutputQuantization quantization, int output_index) {
  WindowScore s;
  softmax(logits, quantization, s.probabilities);
  const double p = s.probabilities[output_index];
  s.score = -p;
  s.nll = -std::log(p);  // +inf only if p underflows (output scales far beyond any real model's)
  return s;
}

int ClipScore::max_output_range() const {
  int range = 0;
  for (int i = 0; i < kNumOutputs; ++i) {
    const int r = static_cast<int>(output_max[i]) - static_cast<int>(output_min[i]);
    if (r > range) range = r;
  }
  return range;
}

bool ClipScore::degenerate() const {
  return windows >= kDegenerateMinWindows && max_output_range() <= kDegenerateMaxSteps;
}

void ClipAccumulator::reset() { *this = ClipAccumulator(); }

void ClipAccumulator::add(const std::int8_t* logits, const WindowScore& score) {
  for (int i = 0; i < kNumOutputs; ++i) {
    probability_sum_[i] += score.probabilities[i];
    if (windows_ == 0 || logits[i] < min_[i]) min_[i] = logits[i];
    if (windows_ == 0 || logits[i] > max_[i]) max_[i] = logits[i];
  }
  score_sum_ += score.score;
  nll_sum_ += score.nll;
  ++windows_;
}

ClipScore ClipAccumulator::result() const {
  ClipScore r;
  r.windows = windows_;
  if (windows_ == 0) return r;
  const double n = static_cast<double>(windows_);
  r.score = score_sum_ / n;
  r.nll = nll_sum_ / n;
  for (int i = 0; i < kNumOutputs; ++i) {
    r.mean_probabilities[i] = probability_sum_[i] / n;
    r.output_min[i] = min_[i];
    r.output_max[i] = max_[i];
  }
  r.predicted_output = 0;
  for (int i = 1; i < kNumMachineIds; ++i) {
    if (r.mean_probabilities[i] > r.mean_probabilities[r.predicted_output]) r.predicted_output = i;
  }
  return r;
}

}  // namespace micronet_ad
