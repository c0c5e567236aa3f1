#include "host/eval/calibration.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace micronet_ad::host {
namespace {

// numpy's _lerp: interpolates from the nearer end so that t = 1 gives b exactly.
double lerp(double a, double b, double t) {
  const double diff = b - a;
  return t >= 0.5 ? b - diff * (1.0 - t) : a + diff * t;
}

}  // namespace

double empirical_quantile(std::vector<double> values, double q) {
  if (values.empty()) throw std::invalid_argument("quantile of no values");
  if (!(q >= 0.0 && q <= 1.0)) throw std::invalid_argument("quantile: q must be in [0, 1]");
  for (double v : values) {
    if (!std::isfinite(v)) throw std::invalid_argument("quantile: values must be finite");
  }
  std::sort(values.begin(), values.end());
  const double h = static_cast<double>(values.size() - 1) * q;
  const std::size_t below = std::min(static_cast<std::size_t>(std::floor(h)), values.size() - 1);
  const std::size_t above = std::min(below + 1, values.size() - 1);
  return lerp(values[below], values[above], h - static_cast<double>(below));
}

std::string to_string(ThresholdMethod method) { return method == ThresholdMethod::kGamma ? "gamma" : "empirical"; }

ThresholdMethod parse_threshold_method(const std::string& text) {
  if (text == "empirical") return ThresholdMethod::kEmpirical;
  if (text == "gamma") return ThresholdMethod::kGamma;
  throw std::invalid_argument("threshold method '" + text + "' is not 'empirical' or 'gamma'");
}

Calibration calibrate_threshold(const std::vector<double>& normal_scores, ThresholdMethod method, double q) {
  if (!(q > 0.0 && q < 1.0)) throw std::invalid_argument("calibration quantile must be in (0, 1)");
  if (normal_scores.empty()) throw std::invalid_argument("calibration needs at least one normal score");
  Calibration result;
  if (method == ThresholdMethod::kEmpirical) {
    result.threshold = empirical_quantile(normal_scores, q);
  } else {
    result.gamma = fit_gamma(normal_scores);
    result.threshold = gamma_ppf(q, *result.gamma);
  }
  return result;
}

}  // namespace micronet_ad::host
