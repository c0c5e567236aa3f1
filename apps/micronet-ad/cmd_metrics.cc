// Rows are grouped by machine type (from the CSV's name) and ID (from the clip's name); each group
// is evaluated on its own, as `eval` evaluates the files it writes.
#include "cmd_metrics.h"

#include <map>
#include <optional>
#include <stdexcept>
#include <utility>

#include <fmt/core.h>

#include "commands.h"
#include "host/eval/dcase_csv.h"
#include "host/eval/metrics.h"
#include "host/eval/roc.h"
#include "scoring.h"

namespace micronet_ad::cli {
namespace {

std::string location(const std::string& path, const host::ScoreRow& row) {
  return fmt::format("{}:{}", path, row.line);
}

// Checks every row's clip name (it carries the label) and files it under its machine: the type
// comes from the CSV name anomaly_score_<type>_id_XX.csv ("" if it has another name).
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
        throw std::runtime_error(location(path, row) + ": clip '" + row.file + "' is of machine " + label->machine_id +
                                 ", but the file is for " + csv_name->machine_id);
      }
      const auto [seen, inserted] = seen_.emplace(machine_type + "/" + row.file, location(path, row));
      if (!inserted) {
        throw std::runtime_error(location(path, row) + ": clip '" + row.file + "' was already scored at " +
                                 seen->second);
      }
      group_for(machine_type, label->machine_id).rows.push_back(std::move(row));
    }
  }

  const std::vector<host::MachineScores>& groups() const { return groups_; }

 private:
  host::MachineScores& group_for(const std::string& machine_type, const std::string& machine_id) {
    for (host::MachineScores& group : groups_) {
      if (group.machine_type == machine_type && group.machine_id == machine_id) return group;
    }
    groups_.push_back(host::MachineScores{machine_type, machine_id, {}});
    return groups_.back();
  }

  std::vector<host::MachineScores> groups_;
  std::map<std::string, std::string> seen_;  // "<type>/<clip>" -> where it was first scored
};

nlohmann::ordered_json json_value(const std::optional<double>& value) {
  return value ? nlohmann::ordered_json(*value) : nlohmann::ordered_json(nullptr);
}

nlohmann::ordered_json metrics_document(const std::vector<host::IdMetrics>& ids,
                                        const std::vector<host::MachineScores>& groups) {
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < ids.size(); ++i) {
    rows.push_back({{"id", ids[i].machine_id},
                    {"machine_type", groups[i].machine_type},
                    {"machine_id", groups[i].machine_id},
                    {"n_normal", ids[i].n_normal},
                    {"n_anomaly", ids[i].n_anomaly},
                    {"auc", json_value(ids[i].auc)},
                    {"pauc", json_value(ids[i].pauc)}});
  }
  const host::AverageMetrics average = host::average_metrics(ids);
  return {{"max_fpr", host::kDcaseMaxFpr},
          {"ids", std::move(rows)},
          {"average",
           {{"auc", json_value(average.auc)},
            {"pauc", json_value(average.pauc)},
            {"ids_with_auc", average.ids_with_auc},
            {"ids_with_pauc", average.ids_with_pauc}}}};
}

}  // namespace

int run_metrics(const MetricsOptions& options, std::FILE* out) {
  RowGrouper grouper;
  for (const std::string& path : options.csv_paths) grouper.add_csv(path);
  if (grouper.groups().empty()) throw std::runtime_error("no score rows in the given files");
  const std::vector<host::IdMetrics> ids = host::evaluate_machines(grouper.groups());
  warn_about_undefined(ids);
  switch (options.format) {
    case OutputFormat::kCsv:
      print_text(out, host::format_result_csv(ids));
      break;
    case OutputFormat::kJson:
      print_json(out, metrics_document(ids, grouper.groups()));
      break;
    case OutputFormat::kTable:
      print_text(out, host::format_metrics_table(ids));
      break;
  }
  return 0;
}

CLI::App* add_metrics_options(CLI::App& app, MetricsOptions* options) {
  auto* cmd = app.add_subcommand("metrics", "AUC and pAUC (max FPR 0.1) per machine ID from DCASE score CSVs");
  cmd->add_option("CSV", options->csv_paths,
                  "Score files: 'file,score' rows, no header (anomaly_score_<type>_id_XX.csv)")
      ->required();
  add_format_option(cmd, &options->format, "Output: table, csv (id,AUC,pAUC with Average) or json");
  return cmd;
}

void add_metrics_command(CLI::App& app, int* exit_code) {
  static MetricsOptions options;
  add_metrics_options(app, &options)->callback([exit_code] { *exit_code = run_metrics(options, stdout); });
}

}  // namespace micronet_ad::cli
