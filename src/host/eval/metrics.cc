#include "host/eval/metrics.h"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "host/eval/roc.h"
#include "host/io/text_table.h"

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

std::string csv_value(const std::optional<double>& value) { return value ? fmt::format("{}", *value) : ""; }

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

namespace {

// The metrics as rows of one TextTable. The table also shows each ID's clip counts and threshold;
// result.csv keeps DCASE's columns (id, AUC, pAUC, then the decision metrics).
std::string format_metrics(TextFormat format, const std::vector<IdMetrics>& ids,
                           const std::vector<IdDecisions>* decisions) {
  if (decisions) check_decisions_size(ids, *decisions);
  const bool table = format == TextFormat::kTable;
  const auto value = [table](const std::optional<double>& v) { return table ? table_value(v) : csv_value(v); };
  std::size_t id_width = 7;  // "Average"
  for (const IdMetrics& id : ids) id_width = std::max(id_width, id.machine_id.size());
  std::vector<TextColumn> columns{{"id", true, id_width}};
  if (table) columns.insert(columns.end(), {{"normal", false, 7}, {"anomaly", false, 7}});
  columns.insert(columns.end(), {{"AUC", false, 9}, {"pAUC", false, 9}});
  if (decisions && table) columns.push_back({"threshold", false, 10});
  if (decisions) columns.insert(columns.end(), {{"precision", false, 9}, {"recall", false, 9}, {"F1", false, 9}});
  const TextTable writer(format, columns, "  ");

  std::string out = writer.header();
  const auto add_row = [&](std::vector<std::string> cells, const std::optional<double>& auc,
                           const std::optional<double>& pauc, const std::string& threshold, const DecisionMetrics* d) {
    cells.insert(cells.end(), {value(auc), value(pauc)});
    if (d && table) cells.push_back(threshold);
    if (d) cells.insert(cells.end(), {value(d->precision), value(d->recall), value(d->f1)});
    out += writer.row(cells);
  };
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const IdMetrics& id = ids[i];
    std::vector<std::string> cells{id.machine_id};
    if (table) cells.insert(cells.end(), {std::to_string(id.n_normal), std::to_string(id.n_anomaly)});
    add_row(cells, id.auc, id.pauc, decisions ? fmt::format("{:.6f}", (*decisions)[i].threshold) : "",
            decisions ? &(*decisions)[i].metrics : nullptr);
  }
  std::vector<std::string> cells{"Average"};
  if (table) cells.insert(cells.end(), {"", ""});
  const AverageMetrics average = average_metrics(ids);
  const DecisionMetrics d = decisions ? average_decisions(*decisions) : DecisionMetrics{};
  add_row(cells, average.auc, average.pauc, "", decisions ? &d : nullptr);
  return out;
}

}  // namespace

std::string format_metrics_table(const std::vector<IdMetrics>& ids, const std::vector<IdDecisions>* decisions) {
  return format_metrics(TextFormat::kTable, ids, decisions);
}

std::string format_result_csv(const std::vector<IdMetrics>& ids) {
  return format_metrics(TextFormat::kCsv, ids, nullptr);
}

std::string format_result_csv(const std::vector<IdMetrics>& ids, const std::vector<IdDecisions>& decisions) {
  return format_metrics(TextFormat::kCsv, ids, &decisions);
}

}  // namespace micronet_ad::host
