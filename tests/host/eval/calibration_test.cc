// Quantiles, the gamma special functions, ppf and fits, and threshold calibration.
#include "host/eval/calibration.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include <gtest/gtest.h>

#include "host/eval/gamma.h"

namespace micronet_ad::host {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kEulerGamma = 0.57721566490153286061;
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// --- Empirical quantile (numpy default 'linear') -------------------------------------------

// numpy.quantile(x, q) written out: sorted x, h = (n - 1) q, linear between neighbours.
double direct_linear_quantile(std::vector<double> x, double q) {
  std::sort(x.begin(), x.end());
  const double h = (x.size() - 1) * q;
  const std::size_t lo = static_cast<std::size_t>(h);
  if (lo + 1 >= x.size()) return x.back();
  return x[lo] + (h - lo) * (x[lo + 1] - x[lo]);
}

TEST(EmpiricalQuantile, NumpyLinearDefinition) {
  EXPECT_DOUBLE_EQ(empirical_quantile({11, 1, 10, 2, 9, 3, 8, 4, 7, 5, 6}, 0.9), 10.0);
  EXPECT_DOUBLE_EQ(empirical_quantile({1, 2, 3, 4}, 0.25), 1.75);
  EXPECT_DOUBLE_EQ(empirical_quantile({15, 1, 7, 3}, 0.9), 12.6);  // numpy.quantile([1,3,7,15], .9)
  EXPECT_DOUBLE_EQ(empirical_quantile({-0.9, -0.1, -0.5}, 0.5), -0.5);
  EXPECT_DOUBLE_EQ(empirical_quantile({4, 2, 8}, 0.0), 2.0);
  EXPECT_DOUBLE_EQ(empirical_quantile({4, 2, 8}, 1.0), 8.0);
  EXPECT_DOUBLE_EQ(empirical_quantile({42}, 0.9), 42.0);
}

TEST(EmpiricalQuantile, MatchesDirectComputationOnRandomData) {
  std::mt19937_64 rng(99);
  std::normal_distribution<double> score(-0.5, 0.2);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<double> x(1 + trial % 57);
    for (double& v : x) v = score(rng);
    for (double q : {0.01, 0.5, 0.9, 0.95, 0.99}) {
      EXPECT_NEAR(empirical_quantile(x, q), direct_linear_quantile(x, q), 1e-14);
    }
  }
}

TEST(EmpiricalQuantile, RejectsBadInput) {
  EXPECT_THROW(empirical_quantile({}, 0.5), std::invalid_argument);
  EXPECT_THROW(empirical_quantile({1, 2}, 1.5), std::invalid_argument);
  EXPECT_THROW(empirical_quantile({1, std::nan("")}, 0.5), std::invalid_argument);
}

// --- Special functions ---------------------------------------------------------------------

TEST(GammaSpecialFunctions, DigammaAndTrigammaKnownValues) {
  EXPECT_NEAR(digamma(1.0), -kEulerGamma, 1e-15);
  EXPECT_NEAR(digamma(0.5), -kEulerGamma - 2 * std::log(2.0), 1e-14);
  EXPECT_NEAR(digamma(10.0), -kEulerGamma + 7129.0 / 2520.0, 1e-14);  // -gamma + H_9
  EXPECT_NEAR(digamma(0.01), -100.56088545786867, 1e-11);
  EXPECT_NEAR(trigamma(1.0), kPi * kPi / 6, 1e-14);
  EXPECT_NEAR(trigamma(0.5), kPi * kPi / 2, 1e-13);
  EXPECT_NEAR(trigamma(2.0), kPi * kPi / 6 - 1, 1e-14);
  EXPECT_NEAR(trigamma(1e6) / (1e-6 + 0.5e-12 + 1e-18 / 6), 1.0, 1e-14);
  EXPECT_THROW(digamma(0.0), std::invalid_argument);
  // mpmath (50 digits): digamma(3.3), trigamma(3.3), digamma(1e6).
  EXPECT_NEAR(digamma(3.3), 1.0348224890596216863, 4e-16);
  EXPECT_NEAR(trigamma(3.3), 0.35350154184106183225, 2e-16);
  EXPECT_NEAR(digamma(1e6), 13.815510057964190771, 4e-15);
}

TEST(GammaSpecialFunctions, BadArgumentsThrowInvalidArgumentAndOverflowIsInfinite) {
  // Only std::invalid_argument reaches callers, never an exception of the library underneath.
  for (double bad : {0.0, -1.5, -kInf, kInf, kNaN}) {
    SCOPED_TRACE(bad);
    EXPECT_THROW(digamma(bad), std::invalid_argument);
    EXPECT_THROW(trigamma(bad), std::invalid_argument);
    EXPECT_THROW(regularized_lower_gamma(bad, 1.0), std::invalid_argument);
    EXPECT_THROW(regularized_upper_gamma(bad, 1.0), std::invalid_argument);
    EXPECT_THROW(inverse_regularized_lower_gamma(bad, 0.5), std::invalid_argument);
  }
  for (double bad : {-1e-300, -kInf, kNaN}) {
    EXPECT_THROW(regularized_lower_gamma(1.0, bad), std::invalid_argument);
    EXPECT_THROW(regularized_upper_gamma(1.0, bad), std::invalid_argument);
  }
  for (double bad : {-0.1, 1.0, 1.5, kNaN})
    EXPECT_THROW(inverse_regularized_lower_gamma(2.0, bad), std::invalid_argument);
  // trigamma(x) ~ 1/x^2 overflows near 0: infinity, not an exception.
  EXPECT_EQ(trigamma(1e-300), kInf);
  EXPECT_NEAR(digamma(1e-300), -1e300, 1e285);
}

TEST(GammaSpecialFunctions, IncompleteGammaAtTheEndsOfItsDomain) {
  EXPECT_EQ(regularized_upper_gamma(2.0, 0.0), 1.0);
  EXPECT_EQ(regularized_lower_gamma(2.0, kInf), 1.0);
  EXPECT_EQ(regularized_upper_gamma(2.0, kInf), 0.0);
  EXPECT_EQ(gamma_cdf(kInf, GammaDistribution{2.0, -1.0, 0.5}), 1.0);
  EXPECT_EQ(gamma_cdf(-1.0, GammaDistribution{2.0, -1.0, 0.5}), 0.0);
  EXPECT_EQ(inverse_regularized_lower_gamma(2.0, 0.0), 0.0);
}

TEST(GammaSpecialFunctions, IncompleteGammaAgainstMpmath) {
  // mpmath.gammainc(a, ..., regularized=True), 50 digits.
  EXPECT_NEAR(regularized_lower_gamma(2.5, 1.5), 0.30001416412137249090, 1e-16);
  EXPECT_NEAR(regularized_upper_gamma(50.0, 60.0), 0.084406681093691829623, 1e-16);
  EXPECT_NEAR(regularized_upper_gamma(0.2, 1e-10), 0.98910875578959816041, 2e-16);
  EXPECT_NEAR(regularized_lower_gamma(1e6, 1e6), 0.50013298076087259124, 1e-15);
  // The far upper tail keeps its relative accuracy.
  EXPECT_NEAR(regularized_upper_gamma(0.5, 700.0) / 2.1010145162642174950e-306, 1.0, 1e-13);
  EXPECT_NEAR(regularized_upper_gamma(3.7, 20.0) / 1.8458736597289670547e-06, 1.0, 1e-14);
}

// P(k, x) for whole k (Erlang): 1 - e^-x sum_{j<k} x^j / j!.
double erlang_cdf(int k, double x) {
  double term = 1, sum = 0;
  for (int j = 0; j < k; ++j) {
    sum += term;
    term *= x / (j + 1);
  }
  return 1 - std::exp(-x) * sum;
}

TEST(GammaSpecialFunctions, RegularizedIncompleteGammaClosedForms) {
  for (double x : {1e-8, 0.01, 0.3, 1.0, 2.5, 7.0, 20.0, 60.0}) {
    SCOPED_TRACE(x);
    EXPECT_NEAR(regularized_lower_gamma(1.0, x), -std::expm1(-x), 1e-15);
    EXPECT_NEAR(regularized_lower_gamma(0.5, x), std::erf(std::sqrt(x)), 1e-14);
    EXPECT_NEAR(regularized_upper_gamma(0.5, x), std::erfc(std::sqrt(x)), 1e-14 * std::erfc(std::sqrt(x)) + 1e-300);
    for (int k : {2, 3, 5, 12}) EXPECT_NEAR(regularized_lower_gamma(k, x), erlang_cdf(k, x), 1e-14);
    EXPECT_NEAR(regularized_lower_gamma(3.7, x) + regularized_upper_gamma(3.7, x), 1.0, 1e-15);
  }
  EXPECT_EQ(regularized_lower_gamma(2.0, 0.0), 0.0);
  EXPECT_THROW(regularized_lower_gamma(0.0, 1.0), std::invalid_argument);
  EXPECT_THROW(regularized_lower_gamma(1.0, -1.0), std::invalid_argument);
}

// --- ppf -----------------------------------------------------------------------------------

TEST(GammaPpf, ShapeOneIsExponential) {
  const GammaDistribution dist{1.0, 0.25, 2.5};
  for (double q : {1e-6, 0.1, 0.5, 0.9, 0.99, 0.999999}) {
    const double expected = 0.25 - 2.5 * std::log1p(-q);
    EXPECT_NEAR(gamma_ppf(q, dist), expected, 1e-13 * std::fabs(expected)) << q;
  }
  EXPECT_EQ(gamma_ppf(0.0, dist), 0.25);
}

TEST(GammaPpf, ChiSquareValues) {
  // chi2(df) = gamma(shape df/2, scale 2). df = 2: -2 ln(1 - q) exactly; df = 1: z^2.
  const auto chi2_ppf = [](double q, double df) { return gamma_ppf(q, GammaDistribution{df / 2, 0.0, 2.0}); };
  EXPECT_NEAR(chi2_ppf(0.95, 2), -2 * std::log(0.05), 1e-13);
  EXPECT_NEAR(chi2_ppf(0.95, 1), 1.959963984540054 * 1.959963984540054, 1e-12);
  EXPECT_NEAR(chi2_ppf(0.99, 1), 2.5758293035489004 * 2.5758293035489004, 1e-12);
  // Printed chi-square tables (3 decimals).
  EXPECT_NEAR(chi2_ppf(0.95, 10), 18.307, 5e-4);
  EXPECT_NEAR(chi2_ppf(0.99, 5), 15.086, 5e-4);
  EXPECT_NEAR(chi2_ppf(0.05, 3), 0.352, 5e-4);
  EXPECT_NEAR(chi2_ppf(0.90, 20), 28.412, 5e-4);
  EXPECT_NEAR(chi2_ppf(0.01, 30), 14.953, 5e-4);
}

TEST(GammaPpf, InvertsTheCdfAcrossShapes) {
  for (double a : {0.05, 0.3, 0.5, 1.0, 2.0, 3.7, 10.0, 150.0, 1e4, 1e6}) {
    for (double q : {1e-10, 0.001, 0.1, 0.5, 0.9, 0.999, 1 - 1e-9}) {
      const double x = inverse_regularized_lower_gamma(a, q);
      SCOPED_TRACE(testing::Message() << "a " << a << " q " << q << " x " << x);
      // |dP| <= density * |dx|: compare in P, with a tolerance of a few ulps of x's effect.
      EXPECT_NEAR(regularized_lower_gamma(a, x), q, 1e-12 * std::max(q, 1e-3));
    }
  }
  // chi2 with even df: invert through the closed-form Erlang CDF.
  for (int k : {1, 2, 4, 9}) {
    for (double q : {0.05, 0.5, 0.9, 0.99}) {
      EXPECT_NEAR(erlang_cdf(k, inverse_regularized_lower_gamma(k, q)), q, 1e-13);
    }
  }
}

TEST(GammaPpf, LargeShapeMedianIsNearShapeMinusOneThird) {
  EXPECT_NEAR(inverse_regularized_lower_gamma(1e4, 0.5), 1e4 - 1.0 / 3, 1e-4);
}

TEST(GammaPpf, RejectsBadArguments) {
  EXPECT_THROW(gamma_ppf(1.0, GammaDistribution{}), std::invalid_argument);
  EXPECT_THROW(gamma_ppf(-0.1, GammaDistribution{}), std::invalid_argument);
  EXPECT_THROW(gamma_ppf(0.5, GammaDistribution{0.0, 0.0, 1.0}), std::invalid_argument);
  EXPECT_THROW(gamma_ppf(0.5, GammaDistribution{1.0, 0.0, -1.0}), std::invalid_argument);
}

// --- Fits ----------------------------------------------------------------------------------

std::vector<double> gamma_sample(double shape, double loc, double scale, int n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::gamma_distribution<double> draw(shape, scale);
  std::vector<double> x(n);
  for (double& v : x) v = loc + draw(rng);
  return x;
}

TEST(GammaFit, FixedLocRecoversParametersWithinFourStandardErrors) {
  // MLE standard errors from the inverse Fisher information of (shape a, scale s):
  // var(a) = a / (n (a psi'(a) - 1)), var(s) = psi'(a) s^2 / (n (a psi'(a) - 1)).
  // Four standard errors: a false failure has probability ~6e-5 per parameter, and the seed is
  // fixed anyway, so this checks the estimator, not luck.
  const double a = 3.0, loc = 5.0, s = 2.0;
  const int n = 5000;
  const GammaDistribution fit = fit_gamma_fixed_loc(gamma_sample(a, loc, s, n, 12345), loc);
  const double info = a * trigamma(a) - 1;
  EXPECT_EQ(fit.loc, loc);
  EXPECT_NEAR(fit.shape, a, 4 * std::sqrt(a / (n * info)));
  EXPECT_NEAR(fit.scale, s, 4 * std::sqrt(trigamma(a) * s * s / (n * info)));
}

TEST(GammaFit, FixedLocSatisfiesTheLikelihoodEquations) {
  const std::vector<double> x = gamma_sample(0.7, -1.0, 0.05, 800, 3);
  const GammaDistribution fit = fit_gamma_fixed_loc(x, -1.0);
  double sum_log = 0, sum = 0;
  for (double v : x) sum_log += std::log(v + 1.0), sum += v + 1.0;
  const double n = x.size();
  // d/d scale: sum y / s^2 - n a / s = 0; d/d shape: sum ln y - n ln s - n psi(a) = 0.
  EXPECT_NEAR(sum / fit.scale / (n * fit.shape), 1.0, 1e-12);
  EXPECT_NEAR((sum_log - n * std::log(fit.scale) - n * digamma(fit.shape)) / n, 0.0, 1e-12);
}

TEST(GammaFit, FixedLocLargeShapeSolvesTheShapeEquationToFullPrecision) {
  // y = 0.999, 1.001: s = ln(mean y) - mean(ln y) = 5.0000025e-7 and a near 1e6, where
  // ln(a) - digamma(a) ~ 1/(2a) would lose about 9 digits if computed as a difference (gamma.cc
  // keeps an asymptotic series for it). Reference: mpmath's root of ln(a) - digamma(a) = s for
  // these two doubles, 50 digits.
  const GammaDistribution fit = fit_gamma_fixed_loc({0.999, 1.001}, 0.0);
  EXPECT_NEAR(fit.shape / 999999.66666666469041591, 1.0, 1e-11);
  EXPECT_NEAR(fit.scale / 1.0000003333334463652e-06, 1.0, 1e-11);
}

TEST(GammaFit, ThreeParameterFitMaximizesTheLikelihoodAndRecoversTheQuantile) {
  // Scores can be negative: a gamma shifted to loc -1.5, like -softmax clip scores.
  const double a = 4.0, loc = -1.5, s = 0.15, q = 0.9;
  const int n = 5000;
  const std::vector<double> x = gamma_sample(a, loc, s, n, 777);
  const GammaDistribution truth{a, loc, s};
  const GammaDistribution fit = fit_gamma(x);
  // The maximum-likelihood fit is at least as likely as the true parameters.
  EXPECT_GE(gamma_log_likelihood(x, fit), gamma_log_likelihood(x, truth) - 1e-9);
  EXPECT_LT(fit.loc, *std::min_element(x.begin(), x.end()));
  EXPECT_NEAR(fit.shape, a, 0.3 * a);  // loc, shape, scale are strongly correlated in 3-parameter fits
  // The 0.9 quantile is well determined: within 4 standard errors of an empirical quantile,
  // sqrt(q (1 - q) / n) / density(x_q), which the (efficient) MLE does not exceed asymptotically.
  const double x_q = gamma_ppf(q, truth);
  const double y = (x_q - loc) / s;
  const double density = std::exp((a - 1) * std::log(y) - y - std::lgamma(a)) / s;
  EXPECT_NEAR(gamma_ppf(q, fit), x_q, 4 * std::sqrt(q * (1 - q) / n) / density);
}

TEST(GammaFit, JShapedSampleGivesShapeBelowOne) {
  const std::vector<double> x = gamma_sample(0.5, 2.0, 1.0, 3000, 11);
  const GammaDistribution fit = fit_gamma(x);
  EXPECT_LT(fit.shape, 1.0);
  EXPECT_LT(fit.loc, *std::min_element(x.begin(), x.end()));
  EXPECT_GT(fit.loc, 2.0 - 0.01);
}

TEST(GammaFit, SymmetricSampleStillGivesAUsableThreshold) {
  // Normal-looking (no skew) scores: the gamma tends to a normal; its 0.9 quantile must land
  // near mean + 1.2816 sd.
  std::mt19937_64 rng(5);
  std::normal_distribution<double> draw(-0.6, 0.05);
  std::vector<double> x(4000);
  for (double& v : x) v = draw(rng);
  const GammaDistribution fit = fit_gamma(x);
  EXPECT_NEAR(gamma_ppf(0.9, fit), -0.6 + 1.2816 * 0.05, 0.005);
}

TEST(GammaFit, RejectsUnusableSamples) {
  EXPECT_THROW(fit_gamma({1.0, 2.0}), std::invalid_argument);
  EXPECT_THROW(fit_gamma({1.0, 1.0, 1.0, 1.0}), std::invalid_argument);
  EXPECT_THROW(fit_gamma({1.0, 2.0, INFINITY}), std::invalid_argument);
  EXPECT_THROW(fit_gamma_fixed_loc({1.0, 2.0}, 1.0), std::invalid_argument);  // a value at loc
  EXPECT_THROW(fit_gamma_fixed_loc({3.0, 3.0}, 1.0), std::invalid_argument);
  EXPECT_THROW(fit_gamma_fixed_loc({3.0}, 1.0), std::invalid_argument);
}

// --- Calibration ---------------------------------------------------------------------------

TEST(Calibration, MethodsUseTheirQuantiles) {
  const std::vector<double> scores = gamma_sample(3.0, -1.0, 0.1, 200, 8);
  const Calibration empirical = calibrate_threshold(scores, ThresholdMethod::kEmpirical, 0.9);
  EXPECT_EQ(empirical.threshold, empirical_quantile(scores, 0.9));
  EXPECT_FALSE(empirical.gamma.has_value());
  const Calibration gamma = calibrate_threshold(scores, ThresholdMethod::kGamma, 0.9);
  ASSERT_TRUE(gamma.gamma.has_value());
  EXPECT_EQ(gamma.threshold, gamma_ppf(0.9, *gamma.gamma));
  EXPECT_NEAR(gamma.threshold, empirical.threshold, 0.1);
}

TEST(Calibration, RejectsBadInput) {
  EXPECT_THROW(calibrate_threshold({}, ThresholdMethod::kEmpirical, 0.9), std::invalid_argument);
  EXPECT_THROW(calibrate_threshold({1, 2, 3}, ThresholdMethod::kEmpirical, 1.0), std::invalid_argument);
  EXPECT_THROW(calibrate_threshold({1, 1, 1}, ThresholdMethod::kGamma, 0.9), std::invalid_argument);
  EXPECT_EQ(parse_threshold_method("gamma"), ThresholdMethod::kGamma);
  EXPECT_EQ(to_string(ThresholdMethod::kEmpirical), "empirical");
  EXPECT_THROW(parse_threshold_method("Gamma"), std::invalid_argument);
}

}  // namespace
}  // namespace micronet_ad::host
