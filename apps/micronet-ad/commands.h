// Each command lives in its own file and adds its subcommand to the app. A command reports
// failure by throwing (std::runtime_error: exit 1) or by setting *exit_code
// (0 ok, 1 some inputs failed, 2 usage error).
#pragma once

#include <CLI/CLI.hpp>

namespace micronet_ad::cli {

void add_inspect_command(CLI::App& app, int* exit_code);
void add_infer_command(CLI::App& app, int* exit_code);
void add_score_command(CLI::App& app, int* exit_code);
void add_features_command(CLI::App& app, int* exit_code);
void add_metrics_command(CLI::App& app, int* exit_code);
void add_eval_command(CLI::App& app, int* exit_code);
void add_calibrate_command(CLI::App& app, int* exit_code);
void add_bench_command(CLI::App& app, int* exit_code);
void add_stream_command(CLI::App& app, int* exit_code);
void add_serve_command(CLI::App& app, int* exit_code);
void add_enrol_command(CLI::App& app, int* exit_code);
void add_worker_command(CLI::App& app, int* exit_code);
void add_publish_command(CLI::App& app, int* exit_code);

}  // namespace micronet_ad::cli
