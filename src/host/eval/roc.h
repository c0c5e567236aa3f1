// ROC AUC and standardized partial AUC, computed exactly as scikit-learn 1.2's
// roc_auc_score(y, s) and roc_auc_score(y, s, max_fpr=p) (DCASE 2020 Task 2, docs/scores.md).
//
// Labels: true = anomaly = the positive class; a higher score means more anomalous.
// Scores that tie form one ROC step (a diagonal segment), so a tie between a normal and an
// anomalous clip counts one half.
#pragma once

#include <optional>
#include <vector>

namespace micronet_ad::host {

// sklearn.metrics.roc_curve: points at each distinct score (highest first), preceded by (0, 0).
// thresholds[0] is thresholds[1] + 1 as in scikit-learn 1.2.
struct RocCurve {
  std::vector<double> fpr;
  std::vector<double> tpr;
  std::vector<double> thresholds;
};

// Throws std::invalid_argument when the sizes differ, a score is not finite, or `anomalous` does
// not hold both classes (the curve is undefined then). With drop_intermediate, points in the
// middle of a straight run of equal steps are removed, as scikit-learn does by default.
RocCurve roc_curve(const std::vector<bool>& anomalous, const std::vector<double>& scores,
                   bool drop_intermediate = true);

// Area under the polyline (x[i], y[i]) by the trapezoidal rule (numpy.trapz); x must be
// monotonic. Throws std::invalid_argument on fewer than 2 points or different sizes.
double trapezoid_area(const std::vector<double>& x, const std::vector<double>& y);

// McClish-standardized partial AUC of a curve from roc_curve (see partial_roc_auc); max_fpr == 1
// gives the plain area. Throws std::invalid_argument when max_fpr is not in (0, 1].
double standardized_partial_auc(const RocCurve& roc, double max_fpr);

// ROC AUC. std::nullopt when only one class is present (scikit-learn raises: not defined).
// Throws std::invalid_argument on mismatched sizes or non-finite scores.
std::optional<double> roc_auc(const std::vector<bool>& anomalous, const std::vector<double>& scores);

// McClish-standardized partial AUC over FPR in [0, max_fpr]:
// 0.5 * (1 + (A - max_fpr^2 / 2) / (max_fpr - max_fpr^2 / 2)), A = the raw partial area, with the
// ROC linearly interpolated at max_fpr. max_fpr == 1 gives the plain AUC. std::nullopt when only
// one class is present; std::invalid_argument when max_fpr is not in (0, 1].
std::optional<double> partial_roc_auc(const std::vector<bool>& anomalous, const std::vector<double>& scores,
                                      double max_fpr = 0.1);

// The DCASE pAUC limit.
inline constexpr double kDcaseMaxFpr = 0.1;

}  // namespace micronet_ad::host
