#include "host/eval/roc.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numeric>
#include <stdexcept>

namespace micronet_ad::host {
namespace {

void check_inputs(const std::vector<bool>& anomalous, const std::vector<double>& scores) {
  if (anomalous.size() != scores.size()) {
    throw std::invalid_argument("ROC: " + std::to_string(anomalous.size()) + " labels but " +
                                std::to_string(scores.size()) + " scores");
  }
  for (double s : scores) {
    if (!std::isfinite(s)) throw std::invalid_argument("ROC: scores must be finite");
  }
}

bool has_both_classes(const std::vector<bool>& anomalous) {
  const auto positives = std::count(anomalous.begin(), anomalous.end(), true);
  return positives > 0 && positives < static_cast<std::ptrdiff_t>(anomalous.size());
}

// Cumulative false and true positive counts at each distinct score, highest score first
// (sklearn's _binary_clf_curve). Counts are integers, exact in double.
struct CountCurve {
  std::vector<double> fps, tps, thresholds;
};

CountCurve count_curve(const std::vector<bool>& anomalous, const std::vector<double>& scores) {
  std::vector<std::size_t> order(scores.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
  CountCurve curve;
  double tp = 0;
  for (std::size_t k = 0; k < order.size(); ++k) {
    tp += anomalous[order[k]] ? 1.0 : 0.0;
    // A point only where the score changes: tied scores make one step.
    bool last_of_tie = k + 1 == order.size() || scores[order[k + 1]] != scores[order[k]];
    if (!last_of_tie) continue;
    curve.tps.push_back(tp);
    curve.fps.push_back(static_cast<double>(k + 1) - tp);
    curve.thresholds.push_back(scores[order[k]]);
  }
  return curve;
}

// Keeps the ends and every point where either count's second difference is non-zero, i.e.
// drops the middle points of runs of equal steps (which lie on the straight line through their
// neighbours, so no area and no interpolated value changes).
void drop_intermediate_points(CountCurve& curve) {
  const std::size_t n = curve.fps.size();
  if (n <= 2) return;
  CountCurve kept;
  for (std::size_t i = 0; i < n; ++i) {
    bool keep = i == 0 || i + 1 == n || curve.fps[i + 1] - 2 * curve.fps[i] + curve.fps[i - 1] != 0 ||
                curve.tps[i + 1] - 2 * curve.tps[i] + curve.tps[i - 1] != 0;
    if (!keep) continue;
    kept.fps.push_back(curve.fps[i]);
    kept.tps.push_back(curve.tps[i]);
    kept.thresholds.push_back(curve.thresholds[i]);
  }
  curve = std::move(kept);
}

// numpy.interp(x, [x0, x1], [y0, y1]) for x0 <= x < x1.
double interpolate(double x, double x0, double x1, double y0, double y1) {
  const double slope = (y1 - y0) / (x1 - x0);
  return slope * (x - x0) + y0;
}

}  // namespace

RocCurve roc_curve(const std::vector<bool>& anomalous, const std::vector<double>& scores, bool drop_intermediate) {
  check_inputs(anomalous, scores);
  if (!has_both_classes(anomalous)) {
    throw std::invalid_argument("ROC: needs both normal and anomalous samples");
  }
  CountCurve counts = count_curve(anomalous, scores);
  if (drop_intermediate) drop_intermediate_points(counts);
  const double negatives = counts.fps.back();
  const double positives = counts.tps.back();
  RocCurve roc;
  roc.fpr.push_back(0.0);
  roc.tpr.push_back(0.0);
  roc.thresholds.push_back(counts.thresholds.front() + 1);
  for (std::size_t i = 0; i < counts.fps.size(); ++i) {
    roc.fpr.push_back(counts.fps[i] / negatives);
    roc.tpr.push_back(counts.tps[i] / positives);
    roc.thresholds.push_back(counts.thresholds[i]);
  }
  return roc;
}

double trapezoid_area(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size() || x.size() < 2) {
    throw std::invalid_argument("trapezoid_area: needs at least 2 points and equal sizes");
  }
  double area = 0.0;
  for (std::size_t i = 1; i < x.size(); ++i) area += (x[i] - x[i - 1]) * (y[i] + y[i - 1]) / 2.0;
  return area;
}

std::optional<double> roc_auc(const std::vector<bool>& anomalous, const std::vector<double>& scores) {
  return partial_roc_auc(anomalous, scores, 1.0);
}

double standardized_partial_auc(const RocCurve& roc, double max_fpr) {
  if (!(max_fpr > 0.0 && max_fpr <= 1.0)) {
    throw std::invalid_argument("partial AUC: max_fpr must be in (0, 1]");
  }
  if (max_fpr == 1.0) return trapezoid_area(roc.fpr, roc.tpr);

  // First point with fpr > max_fpr (searchsorted 'right'); fpr[0] = 0 and fpr.back() = 1 bound it.
  const std::size_t stop =
      static_cast<std::size_t>(std::upper_bound(roc.fpr.begin(), roc.fpr.end(), max_fpr) - roc.fpr.begin());
  const double tpr_at_max = interpolate(max_fpr, roc.fpr[stop - 1], roc.fpr[stop], roc.tpr[stop - 1], roc.tpr[stop]);
  std::vector<double> fpr(roc.fpr.begin(), roc.fpr.begin() + stop);
  std::vector<double> tpr(roc.tpr.begin(), roc.tpr.begin() + stop);
  fpr.push_back(max_fpr);
  tpr.push_back(tpr_at_max);
  const double partial_area = trapezoid_area(fpr, tpr);

  // McClish: map the area of the chance diagonal to 0.5 and of the perfect curve to 1.
  const double min_area = 0.5 * max_fpr * max_fpr;
  const double max_area = max_fpr;
  return 0.5 * (1.0 + (partial_area - min_area) / (max_area - min_area));
}

std::optional<double> partial_roc_auc(const std::vector<bool>& anomalous, const std::vector<double>& scores,
                                      double max_fpr) {
  if (!(max_fpr > 0.0 && max_fpr <= 1.0)) {
    throw std::invalid_argument("partial AUC: max_fpr must be in (0, 1]");
  }
  check_inputs(anomalous, scores);
  if (!has_both_classes(anomalous)) return std::nullopt;
  return standardized_partial_auc(roc_curve(anomalous, scores), max_fpr);
}

}  // namespace micronet_ad::host
