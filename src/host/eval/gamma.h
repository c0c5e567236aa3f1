// Gamma distribution for threshold calibration as in the DCASE 2021 baseline, which fits
// scipy.stats.gamma (shape, loc, scale) to the normal clips' scores and takes gamma.ppf(q).
//
// scipy's 3-parameter fit is a generic numerical MLE that can stall (the likelihood is unbounded
// as loc approaches the smallest score when shape < 1), so we do not copy it; we compute the
// profile maximum-likelihood estimate instead (see fit_gamma).
#pragma once

#include <vector>

namespace micronet_ad::host {

// Density x -> ((x - loc) / scale)^(shape - 1) exp(-(x - loc) / scale) / (scale Gamma(shape)).
struct GammaDistribution {
  double shape = 1.0;
  double loc = 0.0;
  double scale = 1.0;
};

// Special functions, computed by Boost.Math. Arguments: x > 0 finite, a > 0 finite
// (std::invalid_argument otherwise, never a Boost exception); an overflow gives infinity.
double digamma(double x);
double trigamma(double x);
// Regularized lower incomplete gamma P(a, x) = gamma(a, x) / Gamma(a) for x >= 0 (x may be
// +infinity: P = 1), and Q = 1 - P, accurate in the upper tail where P rounds to 1.
double regularized_lower_gamma(double a, double x);
double regularized_upper_gamma(double a, double x);
// x >= 0 with P(a, x) = p, p in [0, 1).
double inverse_regularized_lower_gamma(double a, double p);

double gamma_cdf(double x, const GammaDistribution& dist);
// Quantile function (scipy.stats.gamma.ppf); q in [0, 1).
double gamma_ppf(double q, const GammaDistribution& dist);
// Sum of log densities; -infinity when a value is at or below loc.
double gamma_log_likelihood(const std::vector<double>& values, const GammaDistribution& dist);

// Maximum-likelihood shape and scale with loc given (every value must exceed loc and not all be
// equal): solves ln(shape) - digamma(shape) = ln(mean y) - mean(ln y), y = x - loc, by Newton's
// method; scale = mean(y) / shape. Throws std::invalid_argument on unusable input.
GammaDistribution fit_gamma_fixed_loc(const std::vector<double>& values, double loc);

// Three-parameter fit (shape, loc, scale): maximizes the profile log-likelihood
// max over (shape, scale) at loc = min(x) - d over d in [1e-6, 1e2] x (max(x) - min(x)), by a
// logarithmic grid then golden-section refinement. A maximum at the lower end means a J-shaped
// sample (shape < 1, the unbounded-likelihood case); at the upper end a sample with no positive
// skew, where the gamma approaches a normal distribution. Needs at least 3 values, not all equal
// (std::invalid_argument otherwise).
GammaDistribution fit_gamma(const std::vector<double>& values);

}  // namespace micronet_ad::host
