#include "host/eval/metrics.h"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "host/eval/roc.h"

namespace micronet_ad::host {
namespace {

ClipLabel label_of(const ScoreRow& row) {
  std::optional<ClipLabel> label = parse_clip_label(row.file);
  if (!label) {
    throw std::runtime_error("'" + row.file +
                             "': cannot tell normal from anomalous (expected {normal,anomaly}_id_XX_NNNNNNNN.wav)");
  }
  return *label;
}

std::optional<double> mean_of_defined(const std::vector<IdMetrics>& ids, std::optional<double> IdMetrics::*value,
                                      std::size_t* count) {
  double sum = 0.0;
  *count = 0;
  for (const IdMetrics& id : ids) {
    if (!(id.*value)) continue;
    sum += *(id.*value);
    ++*count;
  }
  if (*count == 0) return std::nullopt;
  return sum / static_cast<double>(*count);
}

std::string csv_field(const std::optional<double>& value) { return value ? fmt::format("{}", *value) : ""; }

std::string table_value(const std::optional<double>& value) {
  return value ? fmt::format("{:.6f}", *value) : "undefined";
}

std::optional<double> mean_of_defined(const std::vector<IdDecisions>& ids,
                                      std::optional<double> DecisionMetrics::*value) {
  double sum = 0.0;
  std::size_t count = 0;
  for (const IdDecisions& id : ids) {
    if (!(id.metrics.*value)) continue;
    sum += *(id.metrics.*value);
    ++count;
  }
  if (count == 0) return std::nullopt;
  return sum / static_cast<double>(count);
}

void check_decisions_size(const std::vector<IdMetrics>& ids, const std::vector<IdDecisions>& decisions) {
  if (decisions.size() != ids.size()) throw std::invalid_argument("metrics table: one decision summary per ID needed");
}

}  // namespace

IdMetrics evaluate_id(const std::string& machine_id, const std::vector<ScoreRow>& rows) {
  IdMetrics result;
  result.machine_id = machine_id;
  std::vector<bool> anomalous;
  std::vector<double> scores;
  anomalous.reserve(rows.size());
  scores.reserve(rows.size());
  for (const ScoreRow& row : rows) {
    const bool is_anomaly = label_of(row).anomalous;
    anomalous.push_back(is_anomaly);
    scores.push_back(row.score);
    ++(is_anomaly ? result.n_anomaly : result.n_normal);
  }
  result.auc = roc_auc(anomalous, scores);
  result.pauc = partial_roc_auc(anomalous, scores, kDcaseMaxFpr);
  return result;
}

std::vector<IdMetrics> evaluate_by_id(const std::vector<ScoreRow>& rows) {
  std::vector<std::string> ids;
  std::vector<std::vector<ScoreRow>> groups;
  for (const ScoreRow& row : rows) {
    const std::string id = label_of(row).machine_id;
    std::size_t k = 0;
    while (k < ids.size() && ids[k] != id) ++k;
    if (k == ids.size()) {
      ids.push_back(id);
      groups.emplace_back();
    }
    groups[k].push_back(row);
  }
  std::vector<IdMetrics> results;
  for (std::size_t k = 0; k < ids.size(); ++k) results.push_back(evaluate_id(ids[k], groups[k]));
  return results;
}

AverageMetrics average_metrics(const std::vector<IdMetrics>& ids) {
  AverageMetrics average;
  average.auc = mean_of_defined(ids, &IdMetrics::auc, &average.ids_with_auc);
  average.pauc = mean_of_defined(ids, &IdMetrics::pauc, &average.ids_with_pauc);
  return average;
}

std::string format_result_csv(const std::vector<IdMetrics>& ids) {
  std::string out = "id,AUC,pAUC\n";
  for (const IdMetrics& id : ids) {
    out += fmt::format("{},{},{}\n", id.machine_id, csv_field(id.auc), csv_field(id.pauc));
  }
  const AverageMetrics average = average_metrics(ids);
  out += fmt::format("Average,{},{}\n", csv_field(average.auc), csv_field(average.pauc));
  return out;
}

Confusion count_decisions(const std::vector<bool>& anomalous, const std::vector<bool>& decided_anomalous) {
  if (anomalous.size() != decided_anomalous.size()) {
    throw std::invalid_argument("count_decisions: labels and decisions differ in size");
  }
  Confusion counts;
  for (std::size_t i = 0; i < anomalous.size(); ++i) {
    if (anomalous[i]) {
      ++(decided_anomalous[i] ? counts.true_positives : counts.false_negatives);
    } else {
      ++(decided_anomalous[i] ? counts.false_positives : counts.true_negatives);
    }
  }
  return counts;
}

DecisionMetrics decision_metrics(const Confusion& counts) {
  const auto ratio = [](std::size_t numerator, std::size_t denominator) -> std::optional<double> {
    if (denominator == 0) return std::nullopt;
    return static_cast<double>(numerator) / static_cast<double>(denominator);
  };
  const std::size_t tp = counts.true_positives, fp = counts.false_positives, fn = counts.false_negatives;
  return DecisionMetrics{ratio(tp, tp + fp), ratio(tp, tp + fn), ratio(2 * tp, 2 * tp + fp + fn)};
}

IdDecisions decide_id(const std::vector<ScoreRow>& rows, double threshold) {
  std::vector<bool> anomalous, decided;
  for (const ScoreRow& row : rows) {
    anomalous.push_back(label_of(row).anomalous);
    decided.push_back(row.score > threshold);
  }
  IdDecisions result;
  result.threshold = threshold;
  result.counts = count_decisions(anomalous, decided);
  result.metrics = decision_metrics(result.counts);
  return result;
}

DecisionMetrics average_decisions(const std::vector<IdDecisions>& ids) {
  return DecisionMetrics{mean_of_defined(ids, &DecisionMetrics::precision),
                         mean_of_defined(ids, &DecisionMetrics::recall), mean_of_defined(ids, &DecisionMetrics::f1)};
}

std::vector<IdMetrics> evaluate_machines(const std::vector<MachineScores>& machines) {
  bool several_types = false;
  for (const MachineScores& m : machines) several_types |= m.machine_type != machines.front().machine_type;
  std::vector<IdMetrics> results;
  for (const MachineScores& m : machines) {
    const std::string shown =
        several_types && !m.machine_type.empty() ? m.machine_type + "/" + m.machine_id : m.machine_id;
    results.push_back(evaluate_id(shown, m.rows));
  }
  return results;
}

std::string format_metrics_table(const std::vector<IdMetrics>& ids, const std::vector<IdDecisions>* decisions) {
  if (decisions) check_decisions_size(ids, *decisions);
  std::size_t width = 7;  // "Average"
  for (const IdMetrics& id : ids) width = std::max(width, id.machine_id.size());
  std::string out = fmt::format("{:<{}}  {:>7}  {:>7}  {:>9}  {:>9}", "id", width, "normal", "anomaly", "AUC", "pAUC");
  if (decisions) out += fmt::format("  {:>10}  {:>9}  {:>9}  {:>9}", "threshold", "precision", "recall", "F1");
  out += "\n";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const IdMetrics& id = ids[i];
    out += fmt::format("{:<{}}  {:>7}  {:>7}  {:>9}  {:>9}", id.machine_id, width, id.n_normal, id.n_anomaly,
                       table_value(id.auc), table_value(id.pauc));
    if (decisions) {
      const IdDecisions& d = (*decisions)[i];
      out += fmt::format("  {:>10.6f}  {:>9}  {:>9}  {:>9}", d.threshold, table_value(d.metrics.precision),
                         table_value(d.metrics.recall), table_value(d.metrics.f1));
    }
    out += "\n";
  }
  const AverageMetrics average = average_metrics(ids);
  out += fmt::format("{:<{}}  {:>7}  {:>7}  {:>9}  {:>9}", "Average", width, "", "", table_value(average.auc),
                     table_value(average.pauc));
  if (decisions) {
    const DecisionMetrics d = average_decisions(*decisions);
    out += fmt::format("  {:>10}  {:>9}  {:>9}  {:>9}", "", table_value(d.precision), table_value(d.recall),
                       table_value(d.f1));
  }
  return out + "\n";
}

std::string format_result_csv(const std::vector<IdMetrics>& ids, const std::vector<IdDecisions>& decisions) {
  check_decisions_size(ids, decisions);
  std::string out = "id,AUC,pAUC,precision,recall,F1\n";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const DecisionMetrics& d = decisions[i].metrics;
    out += fmt::format("{},{},{},{},{},{}\n", ids[i].machine_id, csv_field(ids[i].auc), csv_field(ids[i].pauc),
                       csv_field(d.precision), csv_field(d.recall), csv_field(d.f1));
  }
  const AverageMetrics average = average_metrics(ids);
  const DecisionMetrics d = average_decisions(decisions);
  out += fmt::format("Average,{},{},{},{},{}\n", csv_field(average.auc), csv_field(average.pauc),
                     csv_field(d.precision), csv_field(d.recall), csv_field(d.f1));
  return out;
}

}  // namespace micronet_ad::host
