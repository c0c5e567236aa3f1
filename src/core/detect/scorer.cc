// Window and clip scores (docs/scores.md).
#include <cmath>
#include <cstring>

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

const char* score_method_name(ScoreMethod method) {
  switch (method) {
    case ScoreMethod::kNegSoftmax:
      return "neg_softmax";
    case ScoreMethod::kNll:
      return "nll";
    case ScoreMethod::kDistance:
      return "distance";
  }
  return "?";
}

bool parse_score_method(const char* text, ScoreMethod* out) {
  for (int m = 0; m < kNumScoreMethods; ++m) {
    if (std::strcmp(text, score_method_name(static_cast<ScoreMethod>(m))) == 0) {
      *out = static_cast<ScoreMethod>(m);
      return true;
    }
  }
  return false;
}

WindowScore score_window(const std::int8_t* logits, OutputQuantization quantization, int output_index,
                         const Profile* profile, const std::int8_t* embedding) {
  WindowScore s;
  softmax(logits, quantization, s.probabilities);
  for (double& v : s.values) v = std::nan("");
  if (output_index >= 0 && output_index < kNumOutputs) {
    const double p = s.probabilities[output_index];
    s.values[static_cast<int>(ScoreMethod::kNegSoftmax)] = -p;
    // +inf only if p underflows (output scales far beyond any real model's)
    s.values[static_cast<int>(ScoreMethod::kNll)] = -std::log(p);
  }
  if (profile != nullptr && embedding != nullptr) {
    s.values[static_cast<int>(ScoreMethod::kDistance)] = profile->distance(embedding);
  }
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
  for (int m = 0; m < kNumScoreMethods; ++m) sums_[m] += score.values[m];
  ++windows_;
}

ClipScore ClipAccumulator::result() const {
  ClipScore r;
  r.windows = windows_;
  if (windows_ == 0) return r;
  const double n = static_cast<double>(windows_);
  for (int m = 0; m < kNumScoreMethods; ++m) r.means[m] = sums_[m] / n;
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
