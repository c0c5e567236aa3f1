#include "host/eval/gamma.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace micronet_ad::host {
namespace {

constexpr double kEpsilon = std::numeric_limits<double>::epsilon();
constexpr double kPi = 3.14159265358979323846;
// Below this, asymptotic series are not accurate to double precision; shift the argument up.
constexpr double kAsymptoticFrom = 20.0;

void require_positive(double x, const char* what) {
  if (!(x > 0.0) || !std::isfinite(x)) throw std::invalid_argument(std::string(what) + " must be positive and finite");
}

// ln(a) - digamma(a), without the cancellation of subtracting two nearly equal numbers for large
// a: for a >= 10 the asymptotic series 1/(2a) + 1/(12a^2) - 1/(120a^4) + 1/(252a^6) - ...;
// below, digamma(a) = digamma(a + 1) - 1/a moves the argument up.
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
  const double tail = -r * (0.5 + (1.0 / b) * (1.0 / 6 - r * (1.0 / 30 - r * (1.0 / 42 - r * (1.0 / 30 - r * 5.0 / 66)))));
  return 1.0 / a - 1.0 / b + tail + shift_terms;
}

// a ln(a) - a - lgamma(a), well conditioned for large a through Stirling's series.
double stirling_remainder(double a) {
  if (a < kAsymptoticFrom) return a * std::log(a) - a - std::lgamma(a);
  const double r = 1.0 / (a * a);
  return 0.5 * std::log(a / (2.0 * kPi)) - (1.0 / a) * (1.0 / 12 - r * (1.0 / 360 - r * (1.0 / 1260 - r / 1680)));
}

// a ln(x) - x - lgamma(a), the log of the common factor x^a e^-x / Gamma(a). Near x = a it is
// written as stirling_remainder(a) - a (d - log1p(d)), d = x/a - 1: evaluated directly, a ln(x)
// and x would cancel and lose about a * 1e-16 of relative accuracy for a large shape. Away from
// a (where d would lose the digits of a small x) the direct form is accurate enough: either a is
// small or the factor is negligible.
double log_gamma_prefactor(double a, double x) {
  const double d = (x - a) / a;
  if (std::fabs(d) < 0.5) return stirling_remainder(a) - a * (d - std::log1p(d));
  return a * std::log(x) - x - std::lgamma(a);
}

constexpr int kMaxSeriesTerms = 10'000'000;

double lower_gamma_series(double a, double x) {
  double term = 1.0 / a, sum = term, ap = a;
  for (int n = 0; n < kMaxSeriesTerms; ++n) {
    ap += 1.0;
    term *= x / ap;
    sum += term;
    if (std::fabs(term) < std::fabs(sum) * kEpsilon) return sum * std::exp(log_gamma_prefactor(a, x));
  }
  throw std::runtime_error("incomplete gamma series did not converge");
}

// Q(a, x) by the modified Lentz evaluation of its continued fraction (x >= a + 1).
double upper_gamma_continued_fraction(double a, double x) {
  constexpr double kTiny = std::numeric_limits<double>::min() / kEpsilon;
  double b = x + 1.0 - a, c = 1.0 / kTiny, d = 1.0 / b, h = d;
  for (int i = 1; i < kMaxSeriesTerms; ++i) {
    const double an = -i * (i - a);
    b += 2.0;
    d = an * d + b;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = b + an / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    const double delta = d * c;
    h *= delta;
    if (std::fabs(delta - 1.0) <= kEpsilon) return std::exp(log_gamma_prefactor(a, x)) * h;
  }
  throw std::runtime_error("incomplete gamma continued fraction did not converge");
}

void check_incomplete_gamma_args(double a, double x) {
  require_positive(a, "gamma shape");
  if (!(x >= 0.0)) throw std::invalid_argument("incomplete gamma: x must be >= 0");
}

// Starting point for the inverse (Numerical Recipes 3rd ed., invgammp).
double inverse_gamma_initial_guess(double a, double p) {
  if (a > 1.0) {
    const double pp = p < 0.5 ? p : 1.0 - p;
    const double t = std::sqrt(-2.0 * std::log(pp));
    double z = (2.30753 + t * 0.27061) / (1.0 + t * (0.99229 + t * 0.04481)) - t;
    if (p < 0.5) z = -z;
    return std::max(1e-3, a * std::pow(1.0 - 1.0 / (9.0 * a) - z / (3.0 * std::sqrt(a)), 3.0));
  }
  const double t = 1.0 - a * (0.253 + a * 0.12);
  if (p < t) return std::pow(p / t, 1.0 / a);
  return 1.0 - std::log(1.0 - (p - t) / (1.0 - t));
}

double gamma_density_standard(double a, double x) { return std::exp(log_gamma_prefactor(a, x)) / x; }

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
  return std::log(x) - log_minus_digamma(x);
}

double trigamma(double x) {
  require_positive(x, "trigamma argument");
  return 1.0 / x - log_minus_digamma_slope(x);
}

double regularized_lower_gamma(double a, double x) {
  check_incomplete_gamma_args(a, x);
  if (x == 0.0) return 0.0;
  if (x < a + 1.0) return lower_gamma_series(a, x);
  return 1.0 - upper_gamma_continued_fraction(a, x);
}

double regularized_upper_gamma(double a, double x) {
  check_incomplete_gamma_args(a, x);
  if (x == 0.0) return 1.0;
  if (x < a + 1.0) return 1.0 - lower_gamma_series(a, x);
  return upper_gamma_continued_fraction(a, x);
}

double inverse_regularized_lower_gamma(double a, double p) {
  require_positive(a, "gamma shape");
  if (!(p >= 0.0 && p < 1.0)) throw std::invalid_argument("inverse incomplete gamma: p must be in [0, 1)");
  if (p == 0.0) return 0.0;
  // P(a, x) - p, but above the median as (1 - p) - Q(a, x): 1 - p is exact there, and Q keeps
  // its relative accuracy in the upper tail where P rounds to 1.
  const auto error_at = [a, p](double x) {
    return p > 0.5 ? (1.0 - p) - regularized_upper_gamma(a, x) : regularized_lower_gamma(a, x) - p;
  };
  // Bracket [lo, hi] with error(lo) <= 0 < error(hi), narrowed with every evaluation.
  double lo = 0.0, hi = std::max(a, 1.0);
  while (error_at(hi) <= 0.0) {
    lo = hi;
    hi *= 2.0;
  }
  double x = std::clamp(inverse_gamma_initial_guess(a, p), lo, hi);
  if (!(x > lo && x < hi)) x = 0.5 * (lo + hi);
  for (int iteration = 0; iteration < 300; ++iteration) {
    const double error = error_at(x);
    if (error == 0.0) return x;
    (error < 0.0 ? lo : hi) = x;
    const double density = gamma_density_standard(a, x);
    double next = density > 0.0 ? x - error / density : lo;
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);  // Newton left the bracket: bisect
    if (std::fabs(next - x) <= 2 * kEpsilon * next || hi - lo <= 2 * kEpsilon * hi) return next;
    x = next;
  }
  return x;
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
