// micronet-ad metrics [--format table|csv|json] CSV...: AUC and pAUC per machine ID from DCASE
// score files (`file,score` rows; labels and machine IDs from the clip names), with the Average.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "output.h"

namespace micronet_ad::cli {

struct MetricsOptions {
  std::vector<std::string> csv_paths;          // DCASE score files: 'file,score' rows, no header
  OutputFormat format = OutputFormat::kTable;  // table; csv: DCASE's result.csv; json
};

// Prints the metrics of every machine (type and ID) found in the files to `out`, undefined AUCs
// warned about on stderr. Returns 0. Throws std::runtime_error for a file that cannot be read, a
// bad row (named by file and line), a clip scored twice, or no rows at all.
int run_metrics(const MetricsOptions& options, std::FILE* out);

// The `metrics` subcommand with its flags bound to *options.
CLI::App* add_metrics_options(CLI::App& app, MetricsOptions* options);

}  // namespace micronet_ad::cli
