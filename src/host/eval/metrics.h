// Per-machine-ID evaluation (DCASE 2020 Task 2, docs/scores.md): AUC and pAUC from labelled scores,
// the `id,AUC,pAUC` result table with its `Average` row, and precision/recall/F1 of decisions.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "host/eval/dcase_csv.h"

namespace micronet_ad::host {

// AUC and pAUC of one machine ID. Either is std::nullopt ("undefined") when the ID's clips are
// all normal or all anomalous.
struct IdMetrics {
  std::string machine_id;  // as shown in the table's id column, e.g. "id_00"
  std::size_t n_normal = 0;
  std::size_t n_anomaly = 0;
  std::optional<double> auc;
  std::optional<double> pauc;
};

// Labels every row from its file name and computes AUC and pAUC (max FPR 0.1). Throws
// std::runtime_error naming the file when a row's name carries no normal_/anomaly_ label.
IdMetrics evaluate_id(const std::string& machine_id, const std::vector<ScoreRow>& rows);

// Splits rows by the machine ID in their file names (order of first appearance) and evaluates
// each ID. Throws std::runtime_error naming the file when a row's name carries no label.
std::vector<IdMetrics> evaluate_by_id(const std::vector<ScoreRow>& rows);

// Arithmetic mean over the IDs whose value is defined, each metric on its own; an ID with an
// undefined AUC does not count toward the AUC mean. std::nullopt when no ID has a value.
struct AverageMetrics {
  std::optional<double> auc;
  std::optional<double> pauc;
  std::size_t ids_with_auc = 0;
  std::size_t ids_with_pauc = 0;
};
AverageMetrics average_metrics(const std::vector<IdMetrics>& ids);

// The DCASE result table: header `id,AUC,pAUC`, one row per ID, then an `Average` row. Values
// are printed in shortest round-trip form (lossless); an undefined value is an empty field.
std::string format_result_csv(const std::vector<IdMetrics>& ids);

// Counts of decisions (predicted anomalous) against labels (anomalous).
struct Confusion {
  std::size_t true_positives = 0;
  std::size_t false_positives = 0;
  std::size_t true_negatives = 0;
  std::size_t false_negatives = 0;
};
// Throws std::invalid_argument when the sizes differ.
Confusion count_decisions(const std::vector<bool>& anomalous, const std::vector<bool>& decided_anomalous);

// Precision tp/(tp+fp), recall tp/(tp+fn), F1 2tp/(2tp+fp+fn): each std::nullopt when its
// denominator is 0 (scikit-learn warns and reports 0 there; we keep "undefined" distinct).
struct DecisionMetrics {
  std::optional<double> precision;
  std::optional<double> recall;
  std::optional<double> f1;
};
DecisionMetrics decision_metrics(const Confusion& counts);

// Decisions of one machine ID at its calibrated threshold.
struct IdDecisions {
  double threshold = 0.0;
  Confusion counts;
  DecisionMetrics metrics;
};
// Decides "anomalous" for every row whose score exceeds `threshold` and scores that against the
// labels in the file names (std::runtime_error naming the file when a name carries none).
IdDecisions decide_id(const std::vector<ScoreRow>& rows, double threshold);

// Mean precision, recall and F1 over the IDs where each is defined (std::nullopt where none is).
DecisionMetrics average_decisions(const std::vector<IdDecisions>& ids);

// The scores of one machine (type and ID).
struct MachineScores {
  std::string machine_type;  // e.g. "slider"; "" when unknown
  std::string machine_id;    // "id_XX"
  std::vector<ScoreRow> rows;
};

// Evaluates every machine. The id column is "id_00", or "slider/id_00" when the machines span
// several types.
std::vector<IdMetrics> evaluate_machines(const std::vector<MachineScores>& machines);

// The table `metrics` and `eval` print: id, normal and anomaly counts, AUC, pAUC ("undefined"
// when not defined), then the Average row. With `decisions` (one per ID, same order) it adds
// threshold, precision, recall and F1 columns.
std::string format_metrics_table(const std::vector<IdMetrics>& ids,
                                 const std::vector<IdDecisions>* decisions = nullptr);

// The result table with decisions: `id,AUC,pAUC,precision,recall,F1` and the Average row, as the
// DCASE 2021 baseline adds them (undefined values are empty fields). `decisions` is one per ID.
std::string format_result_csv(const std::vector<IdMetrics>& ids, const std::vector<IdDecisions>& decisions);

}  // namespace micronet_ad::host
