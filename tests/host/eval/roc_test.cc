// AUC and pAUC (scikit-learn 1.2 semantics) on hand-made cases and against brute force.
#include "host/eval/roc.h"

#include <algorithm>
#include <random>
#include <set>

#include <gtest/gtest.h>

namespace micronet_ad::host {
namespace {

// Labelled scores written as two lists, anomalies first.
struct Case {
  std::vector<bool> anomalous;
  std::vector<double> scores;
};

Case make_case(const std::vector<double>& anomaly_scores, const std::vector<double>& normal_scores) {
  Case c;
  for (double s : anomaly_scores) c.anomalous.push_back(true), c.scores.push_back(s);
  for (double s : normal_scores) c.anomalous.push_back(false), c.scores.push_back(s);
  return c;
}

double auc_of(const Case& c) { return roc_auc(c.anomalous, c.scores).value(); }
double pauc_of(const Case& c) { return partial_roc_auc(c.anomalous, c.scores, 0.1).value(); }

TEST(RocAuc, PerfectlySeparatedIsOne) {
  const Case c = make_case({0.9, 0.8, 0.7}, {0.1, 0.2, 0.3, 0.4});
  EXPECT_DOUBLE_EQ(auc_of(c), 1.0);
  EXPECT_DOUBLE_EQ(pauc_of(c), 1.0);
}

TEST(RocAuc, ReversedIsZero) {
  const Case c = make_case({0.1, 0.2, 0.3}, {0.7, 0.8, 0.9, 1.0});
  EXPECT_DOUBLE_EQ(auc_of(c), 0.0);
  // No anomaly above any normal: partial area 0, McClish maps it below 0.5.
  EXPECT_NEAR(pauc_of(c), 0.5 * (1.0 - 0.005 / 0.095), 1e-15);
}

TEST(RocAuc, AllEqualScoresIsChance) {
  const Case c = make_case({2.0, 2.0, 2.0}, {2.0, 2.0});
  EXPECT_DOUBLE_EQ(auc_of(c), 0.5);
  EXPECT_DOUBLE_EQ(pauc_of(c), 0.5);
}

TEST(RocAuc, TiesCountHalf) {
  // Pairs (anomaly vs normal): 3 vs 1 win, 3 vs 3 tie, 2 vs 1 win, 2 vs 3 loss -> 2.5 / 4.
  const Case c = make_case({3.0, 2.0}, {1.0, 3.0});
  EXPECT_DOUBLE_EQ(auc_of(c), 0.625);
}

TEST(RocAuc, SingleClassIsUndefined) {
  EXPECT_FALSE(roc_auc({true, true}, {0.1, 0.2}).has_value());
  EXPECT_FALSE(roc_auc({false, false, false}, {0.1, 0.2, 0.3}).has_value());
  EXPECT_FALSE(partial_roc_auc({false}, {0.1}).has_value());
  EXPECT_FALSE(roc_auc({}, {}).has_value());
  EXPECT_THROW(roc_curve({true, true}, {0.1, 0.2}), std::invalid_argument);
}

TEST(RocAuc, RejectsBadInput) {
  EXPECT_THROW(roc_auc({true, false}, {0.1}), std::invalid_argument);
  EXPECT_THROW(roc_auc({true, false}, {0.1, std::nan("")}), std::invalid_argument);
  EXPECT_THROW(partial_roc_auc({true, false}, {0.1, 0.2}, 0.0), std::invalid_argument);
  EXPECT_THROW(partial_roc_auc({true, false}, {0.1, 0.2}, 1.5), std::invalid_argument);
}

TEST(RocAuc, MaxFprOneIsPlainAuc) {
  const Case c = make_case({0.9, 0.5, 0.3}, {0.6, 0.4, 0.2, 0.1});
  EXPECT_DOUBLE_EQ(partial_roc_auc(c.anomalous, c.scores, 1.0).value(), auc_of(c));
}

TEST(RocAuc, HorizontalSegmentAtMaxFpr) {
  // Curve (0,0) (0,.5) (1/3,.5) (1/3,1) (1,1): at FPR 0.1 the TPR is 0.5, area 0.05,
  // pAUC = 0.5 (1 + (0.05 - 0.005) / 0.095) = 14/19.
  const Case c = make_case({0.9, 0.8}, {0.85, 0.7, 0.6});
  EXPECT_NEAR(auc_of(c), 5.0 / 6.0, 1e-15);
  EXPECT_NEAR(pauc_of(c), 14.0 / 19.0, 1e-15);
}

TEST(RocAuc, InterpolationOnATiedDiagonalMatters) {
  // A normal and an anomaly tie at 0.5: the curve goes (0,1/3) -> (0.2,2/3) diagonally, so at
  // FPR 0.1 the TPR is 0.5 (a step would give 1/3 or 2/3). Area = 0.1 (1/3 + 1/2) / 2 = 1/24,
  // pAUC = 0.5 (1 + (1/24 - 1/200) / (19/200)) = 79/114.
  const Case c = make_case({1.0, 0.5, 0.05}, {0.5, 0.4, 0.3, 0.2, 0.1});
  EXPECT_NEAR(pauc_of(c), 79.0 / 114.0, 1e-15);
  EXPECT_NEAR(auc_of(c), 9.5 / 15.0, 1e-15);
}

TEST(RocCurve, MatchesScikitLearnLayout) {
  // sklearn.metrics.roc_curve([1,0,1,0,0], [.9,.85,.8,.7,.6]) drops (2/3, 1), the middle of two
  // equal (1/3, 0) steps, and prepends (0, 0) with threshold max + 1.
  const Case c = make_case({0.9, 0.8}, {0.85, 0.7, 0.6});
  const RocCurve roc = roc_curve(c.anomalous, c.scores);
  const std::vector<double> fpr = {0.0, 0.0, 1.0 / 3, 1.0 / 3, 1.0};
  const std::vector<double> tpr = {0.0, 0.5, 0.5, 1.0, 1.0};
  const std::vector<double> thresholds = {0.9 + 1.0, 0.9, 0.85, 0.8, 0.6};
  EXPECT_EQ(roc.fpr, fpr);
  EXPECT_EQ(roc.tpr, tpr);
  EXPECT_EQ(roc.thresholds, thresholds);
  EXPECT_EQ(roc_curve(c.anomalous, c.scores, false).fpr.size(), 6u);
}

// --- Independent cross-checks -------------------------------------------------------------

// AUC as the probability that an anomaly outscores a normal, ties counting half.
double brute_force_auc(const Case& c) {
  double wins = 0, pairs = 0;
  for (std::size_t i = 0; i < c.scores.size(); ++i) {
    if (!c.anomalous[i]) continue;
    for (std::size_t j = 0; j < c.scores.size(); ++j) {
      if (c.anomalous[j]) continue;
      wins += c.scores[i] > c.scores[j] ? 1.0 : c.scores[i] == c.scores[j] ? 0.5 : 0.0;
      pairs += 1;
    }
  }
  return wins / pairs;
}

// Standardized partial AUC from the full ROC polyline (one point per distinct score, counted
// directly), integrating each segment clipped to [0, max_fpr].
double brute_force_pauc(const Case& c, double max_fpr) {
  const std::set<double, std::greater<double>> thresholds(c.scores.begin(), c.scores.end());
  const double positives = static_cast<double>(std::count(c.anomalous.begin(), c.anomalous.end(), true));
  const double negatives = static_cast<double>(c.scores.size()) - positives;
  double prev_f = 0, prev_t = 0, area = 0;
  for (double threshold : thresholds) {
    double fp = 0, tp = 0;
    for (std::size_t i = 0; i < c.scores.size(); ++i) {
      if (c.scores[i] >= threshold) (c.anomalous[i] ? tp : fp) += 1;
    }
    const double f = fp / negatives, t = tp / positives;
    if (f > prev_f && prev_f < max_fpr) {
      const double end = std::min(f, max_fpr);
      const double t_end = prev_t + (t - prev_t) * (end - prev_f) / (f - prev_f);
      area += (end - prev_f) * (prev_t + t_end) / 2;
    }
    prev_f = f, prev_t = t;
  }
  const double min_area = max_fpr * max_fpr / 2;
  return 0.5 * (1 + (area - min_area) / (max_fpr - min_area));
}

// Random labelled scores; few distinct values when `levels` is small, so ties are common.
Case random_case(std::mt19937_64& rng, int size, int levels) {
  std::uniform_int_distribution<int> level(0, levels - 1);
  std::bernoulli_distribution is_anomaly(0.4);
  Case c;
  for (int i = 0; i < size; ++i) {
    const bool anomaly = is_anomaly(rng);
    c.anomalous.push_back(anomaly);
    c.scores.push_back(level(rng) * 0.25 + (anomaly ? 0.5 : 0.0));
  }
  c.anomalous[0] = true, c.anomalous[1] = false;  // both classes present
  return c;
}

TEST(RocAuc, MatchesBruteForceOnRandomData) {
  std::mt19937_64 rng(20240601);
  for (int trial = 0; trial < 300; ++trial) {
    const int levels = trial % 3 == 0 ? 4 : trial % 3 == 1 ? 30 : 100000;
    const Case c = random_case(rng, 5 + trial % 120, levels);
    SCOPED_TRACE(testing::Message() << "trial " << trial);
    EXPECT_NEAR(auc_of(c), brute_force_auc(c), 1e-12);
    for (double max_fpr : {0.1, 0.05, 0.37}) {
      EXPECT_NEAR(partial_roc_auc(c.anomalous, c.scores, max_fpr).value(), brute_force_pauc(c, max_fpr), 1e-12);
    }
  }
}

TEST(RocAuc, DroppingIntermediatePointsChangesNothing) {
  // Dropped points lie on the straight line through their kept neighbours, so neither the area
  // nor the interpolated TPR at max_fpr can change; check it on tie-heavy data, including cases
  // where max_fpr falls exactly on a point or inside a run of equal steps.
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 300; ++trial) {
    const Case c = random_case(rng, 10 + trial % 60, 3 + trial % 5);
    const RocCurve dropped = roc_curve(c.anomalous, c.scores, true);
    const RocCurve full = roc_curve(c.anomalous, c.scores, false);
    for (double max_fpr : {0.1, 0.2, 0.25, 0.5, 1.0}) {
      EXPECT_NEAR(standardized_partial_auc(dropped, max_fpr), standardized_partial_auc(full, max_fpr), 1e-14);
    }
  }
  // Equal (1 normal, 1 anomaly) tie groups: every middle point is collinear and dropped.
  Case pairs;
  for (int k = 0; k < 10; ++k) {
    pairs.anomalous.push_back(true), pairs.scores.push_back(k);
    pairs.anomalous.push_back(false), pairs.scores.push_back(k);
  }
  EXPECT_EQ(roc_curve(pairs.anomalous, pairs.scores).fpr.size(), 3u);  // (0,0) (.1,.1) (1,1)
  EXPECT_DOUBLE_EQ(pauc_of(pairs), 0.5);
}

TEST(TrapezoidArea, Basics) {
  EXPECT_DOUBLE_EQ(trapezoid_area({0, 1}, {0, 1}), 0.5);
  EXPECT_DOUBLE_EQ(trapezoid_area({0, 0.5, 1}, {1, 1, 1}), 1.0);
  EXPECT_THROW(trapezoid_area({0}, {0}), std::invalid_argument);
}

}  // namespace
}  // namespace micronet_ad::host
