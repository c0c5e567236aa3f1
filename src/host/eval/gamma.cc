#include "host/eval/gamma.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include <boost/math/constants/constants.hpp>
#include <boost/math/policies/policy.hpp>
#include <boost/math/special_functions/digamma.hpp>
#include <boost/math/special_functions/gamma.hpp>
#include <boost/math/special_functions/trigamma.hpp>

namespace micronet_ad::host {
namespace {

namespace policies = boost::math::policies;
// Arguments are checked before Boost sees them (std::invalid_argument, as gamma.h promises), so
// Boost must not add exceptions of its own: an overflow (trigamma of a tiny x) returns infinity
// and a domain or pole error NaN. A series that fails to converge still throws
// boost::math::evaluation_error, a std::runtime_error.
using Policy =
    policies::policy<policies::domain_error<policies::ignore_error>, policies::pole_error<policies::ignore_error>,
                     policies::overflow_error<policies::ignore_error>>;

constexpr double kEpsilon = std::numeric_limits<double>::epsilon();
// Below this, asymptotic series are not accurate to double precision; shift the argument up.
constexpr double kAsymptoticFrom = 20.0;

void require_positive(double x, const char* what) {
  if (!(x > 0.0) || !std::isfinite(x)) throw std::invalid_argument(std::string(what) + " must be positive and finite");
}

// Hand-written on purpose: the shape equation ln(a) - digamma(a) = s of the fits needs this
// difference to full relative accuracy, and log(a) - boost::math::digamma(a) cancels: both terms
// are about ln(a) and the difference about 1/(2a), so at a = 1e6 only 7 of 16 digits survive
// (tests/host/eval/calibration_test.cc checks such a fit). The same holds for its slope
// 1/a - trigamma(a) and for the Stirling remainder of the profile likelihood.
//
// ln(a) - digamma(a) for a >= 20 by the asymptotic series 1/(2a) + 1/(12a^2) - 1/(120a^4) +
// 1/(252a^6) - ...; below, digamma(a) = digamma(a + 1) - 1/a moves the argument up.
double log_minus_digamma(double a) {
  double shift_terms = 0.0, b = a;
  while (b < kAsymptoticFrom) {
    shift_terms += 1.0 / b;
    b += 1.0;
  }
  const double r = 1.0 / (b * b);
  const double tail = 1.0 / (2.0 * b) + r * (1.0 / 12 - r * (1.0 / 120 - r * (1.0 / 252 - r * (1.0 / 240 - r / 132))));
  return std::log(a / b) + tail + shift_terms;
}

// d/da [ln(a) - digamma(a)] = 1/a - trigamma(a), again without cancellation for large a.
double log_minus_digamma_slope(double a) {
  double shift_terms = 0.0, b = a;
  while (b < kAsymptoticFrom) {
    shift_terms -= 1.0 / (b * b);
    b += 1.0;
  }
  const double r = 1.0 / (b * b);
  // 1/b - trigamma(b) = -1/(2b^2) - 1/(6b^3) + 1/(30b^5) - 1/(42b^7) + 1/(30b^9) - 5/(66 b^11)
  const double tail =
      -r * (0.5 + (1.0 / b) * (1.0 / 6 - r * (1.0 / 30 - r * (1.0 / 42 - r * (1.0 / 30 - r * 5.0 / 66)))));
  return 1.0 / a - 1.0 / b + tail + shift_terms;
}

// a ln(a) - a - lgamma(a), well conditioned for large a through Stirling's series.
double stirling_remainder(double a) {
  if (a < kAsymptoticFrom) return a * std::log(a) - a - std::lgamma(a);
  const double r = 1.0 / (a * a);
  return 0.5 * std::log(a / boost::math::constants::two_pi<double>()) -
         (1.0 / a) * (1.0 / 12 - r * (1.0 / 360 - r * (1.0 / 1260 - r / 1680)));
}

void check_incomplete_gamma_args(double a, double x) {
  require_positive(a, "gamma shape");
  if (!(x >= 0.0)) throw std::invalid_argument("incomplete gamma: x must be >= 0");
}

// Mean of y = x - loc and s = ln(mean y) - mean(ln y) >= 0, computed as -mean(log1p((x - mean x) /
// mean y)) so that a loc far below the data does not cancel s away.
struct ShiftedMoments {
  double mean = 0.0;
  double log_mean_gap = 0.0;  // s
};

ShiftedMoments shifted_moments(const std::vector<double>& values, double min_value, double gap) {
  double mean_above_min = 0.0;
  for (double x : values) mean_above_min += x - min_value;
  mean_above_min /= static_cast<double>(values.size());
  ShiftedMoments m;
  m.mean = mean_above_min + gap;
  double sum = 0.0;
  for (double x : values) sum += std::log1p(((x - min_value) - mean_above_min) / m.mean);
  m.log_mean_gap = -sum / static_cast<double>(values.size());
  return m;
}

// Solves ln(a) - digamma(a) = s (s > 0) for a, by Newton's method on ln(a) from Minka's guess.
double solve_shape(double s) {
  double a = (3.0 - s + std::sqrt((s - 3.0) * (s - 3.0) + 24.0 * s)) / (12.0 * s);
  for (int iteration = 0; iteration < 100; ++iteration) {
    const double residual = log_minus_digamma(a) - s;
    const double step = residual / (a * log_minus_digamma_slope(a));  // Newton step in ln(a)
    a *= std::exp(-std::clamp(step, -5.0, 5.0));
    if (std::fabs(step) < 4 * kEpsilon) break;
  }
  return a;
}

struct ProfileFit {
  GammaDistribution dist;
  double mean_log_likelihood = -std::numeric_limits<double>::infinity();
};

// Best (shape, scale) at loc = min - gap, and the mean log-likelihood there:
// (1 - a) s - ln(mean y) + a ln a - a - lgamma(a).
ProfileFit profile_at(const std::vector<double>& values, double min_value, double gap) {
  const ShiftedMoments m = shifted_moments(values, min_value, gap);
  ProfileFit fit;
  if (!(m.log_mean_gap > 0.0)) return fit;  // all equal at this precision
  const double a = solve_shape(m.log_mean_gap);
  fit.dist = GammaDistribution{a, min_value - gap, m.mean / a};
  fit.mean_log_likelihood = (1.0 - a) * m.log_mean_gap - std::log(m.mean) + stirling_remainder(a);
  return fit;
}

}  // namespace

double digamma(double x) {
  require_positive(x, "digamma argument");
  return boost::math::digamma(x, Policy());
}

double trigamma(double x) {
  require_positive(x, "trigamma argument");
  return boost::math::trigamma(x, Policy());
}

double regularized_lower_gamma(double a, double x) {
  check_incomplete_gamma_args(a, x);
  if (std::isinf(x)) return 1.0;
  return boost::math::gamma_p(a, x, Policy());
}

double regularized_upper_gamma(double a, double x) {
  check_incomplete_gamma_args(a, x);
  if (std::isinf(x)) return 0.0;
  return boost::math::gamma_q(a, x, Policy());
}

double inverse_regularized_lower_gamma(double a, double p) {
  require_positive(a, "gamma shape");
  if (!(p >= 0.0 && p < 1.0)) throw std::invalid_argument("inverse incomplete gamma: p must be in [0, 1)");
  return boost::math::gamma_p_inv(a, p, Policy());
}

double gamma_cdf(double x, const GammaDistribution& dist) {
  require_positive(dist.scale, "gamma scale");
  if (x <= dist.loc) return 0.0;
  return regularized_lower_gamma(dist.shape, (x - dist.loc) / dist.scale);
}

double gamma_ppf(double q, const GammaDistribution& dist) {
  require_positive(dist.scale, "gamma scale");
  return dist.loc + dist.scale * inverse_regularized_lower_gamma(dist.shape, q);
}

double gamma_log_likelihood(const std::vector<double>& values, const GammaDistribution& dist) {
  require_positive(dist.shape, "gamma shape");
  require_positive(dist.scale, "gamma scale");
  double sum = 0.0;
  for (double x : values) {
    const double y = (x - dist.loc) / dist.scale;
    if (!(y > 0.0)) return -std::numeric_limits<double>::infinity();
    sum += (dist.shape - 1.0) * std::log(y) - y;
  }
  const double n = static_cast<double>(values.size());
  return sum - n * (std::lgamma(dist.shape) + std::log(dist.scale));
}

GammaDistribution fit_gamma_fixed_loc(const std::vector<double>& values, double loc) {
  if (values.size() < 2) throw std::invalid_argument("gamma fit: needs at least 2 values");
  const auto [min_it, max_it] = std::minmax_element(values.begin(), values.end());
  for (double x : values) {
    if (!std::isfinite(x)) throw std::invalid_argument("gamma fit: values must be finite");
  }
  if (!(*min_it > loc)) throw std::invalid_argument("gamma fit: every value must exceed loc");
  if (*min_it == *max_it) throw std::invalid_argument("gamma fit: all values are equal");
  const ProfileFit fit = profile_at(values, *min_it, *min_it - loc);
  if (!std::isfinite(fit.mean_log_likelihood)) throw std::invalid_argument("gamma fit: values too close together");
  return GammaDistribution{fit.dist.shape, loc, fit.dist.scale};
}

GammaDistribution fit_gamma(const std::vector<double>& values) {
  if (values.size() < 3) throw std::invalid_argument("gamma fit: needs at least 3 values");
  for (double x : values) {
    if (!std::isfinite(x)) throw std::invalid_argument("gamma fit: values must be finite");
  }
  const auto [min_it, max_it] = std::minmax_element(values.begin(), values.end());
  const double min_value = *min_it, range = *max_it - *min_it;
  if (!(range > 0.0)) throw std::invalid_argument("gamma fit: all values are equal");

  // The profile log-likelihood as a function of u = ln(gap / range).
  const auto profile = [&](double u) { return profile_at(values, min_value, range * std::exp(u)); };
  constexpr double kLowestU = -6.0 * 2.302585092994046, kHighestU = 2.0 * 2.302585092994046;
  constexpr int kGridSteps = 80;
  const double step = (kHighestU - kLowestU) / kGridSteps;
  int best = 0;
  ProfileFit best_fit = profile(kLowestU);
  for (int i = 1; i <= kGridSteps; ++i) {
    ProfileFit fit = profile(kLowestU + i * step);
    if (fit.mean_log_likelihood > best_fit.mean_log_likelihood) {
      best = i;
      best_fit = fit;
    }
  }
  if (!std::isfinite(best_fit.mean_log_likelihood)) throw std::invalid_argument("gamma fit: values too close together");

  // Golden-section search between the best grid point's neighbours.
  const double golden = 0.5 * (std::sqrt(5.0) - 1.0);
  double lo = kLowestU + std::max(best - 1, 0) * step, hi = kLowestU + std::min(best + 1, kGridSteps) * step;
  double u1 = hi - golden * (hi - lo), u2 = lo + golden * (hi - lo);
  ProfileFit f1 = profile(u1), f2 = profile(u2);
  for (int iteration = 0; iteration < 80 && hi - lo > 1e-12; ++iteration) {
    if (f1.mean_log_likelihood >= f2.mean_log_likelihood) {
      hi = u2, u2 = u1, f2 = f1;
      u1 = hi - golden * (hi - lo), f1 = profile(u1);
    } else {
      lo = u1, u1 = u2, f1 = f2;
      u2 = lo + golden * (hi - lo), f2 = profile(u2);
    }
  }
  for (const ProfileFit* fit : {&f1, &f2}) {
    if (fit->mean_log_likelihood > best_fit.mean_log_likelihood) best_fit = *fit;
  }
  return best_fit.dist;
}

}  // namespace micronet_ad::host
