// Per-machine-ID decision thresholds from the scores of normal clips: a clip is declared
// anomalous when its score exceeds the threshold (docs/scores.md: calibrate per machine ID).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "host/eval/gamma.h"

namespace micronet_ad::host {

// numpy.quantile(values, q) with its default method 'linear' (Hyndman & Fan type 7): with the
// values sorted ascending as x[0..n-1], h = (n - 1) q, the result is
// x[floor(h)] + (h - floor(h)) (x[floor(h) + 1] - x[floor(h)]). q in [0, 1]; throws
// std::invalid_argument on an empty input or non-finite values.
double empirical_quantile(std::vector<double> values, double q);

enum class ThresholdMethod {
  kEmpirical,  // empirical_quantile(normal scores, q)
  kGamma,      // gamma_ppf(q, fit_gamma(normal scores)), as the DCASE 2021 baseline
};
std::string to_string(ThresholdMethod method);
// "empirical" or "gamma"; throws std::invalid_argument otherwise.
ThresholdMethod parse_threshold_method(const std::string& text);

struct Calibration {
  double threshold = 0.0;
  std::optional<GammaDistribution> gamma;  // the fitted distribution, for kGamma
};

// Threshold at quantile q in (0, 1) of the normal scores. Throws std::invalid_argument when q is
// out of range or the scores cannot support the method (empty; for kGamma fewer than 3 values
// or all equal).
Calibration calibrate_threshold(const std::vector<double>& normal_scores, ThresholdMethod method, double q);

}  // namespace micronet_ad::host
