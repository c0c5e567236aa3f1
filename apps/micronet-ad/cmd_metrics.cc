// micronet-ad metrics [--format table|csv|json] CSV...: AUC and pAUC per machine ID from DCASE
// score files (`file,score` rows; labels and machine IDs from the clip names), with the Average.
#include <cstdio>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "host/eval/dcase_csv.h"
#include "host/eval/metrics.h"
#include "host/eval/roc.h"
#include "scoring.h"

namespace micronet_ad::cli {
namespace {

// The rows of one machine (type, ID), gathered over all the CSVs given; the type comes from the
// CSV name anomaly_score_<type>_id_XX.csv ("" if it has another name).
using MachineGroup = host::MachineScores;

std::string location(const std::string& path, const host::ScoreRow& row) {
  return fmt::format("{}:{}", path, row.line);
}

// Checks every row's clip name (it carries the label) and files it under its machine.
class RowGrouper {
 public:
  void add_csv(const std::string& path) {
    const std::optional<host::ScoreCsvName> csv_name = host::parse_score_csv_name(path);
    const std::string machine_type = csv_name ? csv_name->machine_type : "";
    for (host::ScoreRow& row : host::read_score_csv(path)) {
      const std::optional<host::ClipLabel> label = host::parse_clip_label(row.file);
      if (!label) {
        throw std::runtime_error(location(path, row) + ": clip name '" + row.file +
                                 "' does not give its label (expected {normal,anomaly}_id_XX_NNNNNNNN.wav)");
      }
      if (csv_name && label->machine_id != csv_name->machine_id) {
        throw std::runtime_error(location(path, row) + ": clip '" + row.file + "' is of machine " +
                                 label->machine_id + ", but the file is for " + csv_name->machine_id);
      }
      const auto [seen, inserted] = seen_.emplace(machine_type + "/" + row.file, location(path, row));
      if (!inserted) {
        throw std::runtime_error(location(path, row) + ": clip '" + row.file + "' was already scored at " +
                                 seen->second);
      }
      group_for(machine_type, label->machine_id).rows.push_back(std::move(row));
    }
  }

  const std::vector<MachineGroup>& groups() const { return groups_; }

 private:
  MachineGroup& group_for(const std::string& machine_type, const std::string& machine_id) {
    for (MachineGroup& group : groups_) {
      if (group.machine_type == machine_type && group.machine_id == machine_id) return group;
    }
    groups_.push_back(MachineGroup{machine_type, machine_id, {}});
    return groups_.back();
  }

  std::vector<MachineGroup> groups_;
  std::map<std::string, std::string> seen_;  // "<type>/<clip>" -> where it was first scored
};

nlohmann::json json_value(const std::optional<double>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

void print_json(const std::vector<host::IdMetrics>& ids, const std::vector<MachineGroup>& groups) {
  nlohmann::json rows = nlohmann::json::array();
  for (std::size_t i = 0; i < ids.size(); ++i) {
    rows.push_back({{"id", ids[i].machine_id}, {"machine_type", groups[i].machine_type},
                    {"machine_id", groups[i].machine_id}, {"n_normal", ids[i].n_normal},
                    {"n_anomaly", ids[i].n_anomaly}, {"auc", json_value(ids[i].auc)},
                    {"pauc", json_value(ids[i].pauc)}});
  }
  const host::AverageMetrics average = host::average_metrics(ids);
  const nlohmann::json document = {
      {"max_fpr", host::kDcaseMaxFpr},
      {"ids", rows},
      {"average", {{"auc", json_value(average.auc)}, {"pauc", json_value(average.pauc)},
                   {"ids_with_auc", average.ids_with_auc}, {"ids_with_pauc", average.ids_with_pauc}}}};
  fmt::print("{}\n", document.dump(2));
}

}  // namespace

void add_metrics_command(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("metrics", "AUC and pAUC (max FPR 0.1) per machine ID from DCASE score CSVs");
  static std::vector<std::string> csv_paths;
  static std::string format = "table";
  cmd->add_option("CSV", csv_paths, "Score files: 'file,score' rows, no header (anomaly_score_<type>_id_XX.csv)")
      ->required();
  cmd->add_option("--format", format, "Output: table, csv (id,AUC,pAUC with Average) or json")
      ->check(CLI::IsMember({"table", "csv", "json"}));
  cmd->callback([exit_code] {
    RowGrouper grouper;
    for (const std::string& path : csv_paths) grouper.add_csv(path);
    if (grouper.groups().empty()) throw std::runtime_error("no score rows in the given files");
    const std::vector<host::IdMetrics> ids = host::evaluate_machines(grouper.groups());
    warn_about_undefined(ids);
    if (format == "csv") {
      fmt::print("{}", host::format_result_csv(ids));
    } else if (format == "json") {
      print_json(ids, grouper.groups());
    } else {
      fmt::print("{}", host::format_metrics_table(ids));
    }
    *exit_code = 0;
  });
}

}  // namespace micronet_ad::cli
