// micronet-ad worker --broker URL: joins the shared subscription of a group of workers on an MQTT
// v5 broker and scores the fleet's clips (host/fleet/worker.h; docs/fleet.md has the topics
// contract), until SIGTERM/SIGINT.
#pragma once

#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "common_options.h"
#include "host/fleet/cli_connection.h"
#include "host/fleet/worker.h"
#include "host/io/model_file.h"
#include "output.h"

namespace micronet_ad::cli {

struct WorkerOptions {
  // --broker (required), --username, --password-file, --cafile, --cert, --key, --session-expiry,
  // --keepalive.
  host::fleet::ConnectionOptions connection;
  std::string group = "micronet-ad";  // --group: workers of one group share the clips
  std::string id;                     // --id: this worker's stable name; "": the host name
  std::string profile;                // --profile FILE|DIR: machines with one are scored by distance
  std::string thresholds;             // --thresholds FILE (calibrate): machine-ID scores get a decision
  std::string model;                  // --model: file or small|medium|large; "" for the default
  int threads = 0;                    // --threads: sessions, each scoring one clip at a time (0: one per core)
  double max_seconds = 120.0;         // --max-seconds: longest clip, in seconds of audio
  double max_payload_mb = 32.0;       // --max-payload-mb: largest clip payload in MiB
  double status_interval = 5.0;       // --status-interval: seconds between retained status messages
  double drain_timeout = 10.0;        // --drain-timeout: seconds SIGTERM waits for the last results
  ScoreModeOptions mode;              // --framing, --resize
  KernelSet kernels = KernelSet::kAuto;
};

// The worker's name, group, sessions and broker connection. Throws std::invalid_argument for a
// bad --broker, std::runtime_error for an unreadable --password-file.
host::fleet::WorkerConfig worker_config(const WorkerOptions& options);
// How its sessions score with `file`: the profiles, thresholds and limits. Throws
// std::runtime_error for a thresholds or profile file that is missing, invalid or made for
// another model.
host::fleet::ScoringSetup worker_scoring(const WorkerOptions& options, const host::ModelFile& file);

// Scores clips until SIGTERM/SIGINT (reconnecting with back-off while the broker is away), then
// finishes the clips in hand and returns 0. Prints a line on `out` once it has joined. Throws
// when it cannot start (the options above, the model).
int run_worker(const WorkerOptions& options, std::FILE* out);

// The `worker` subcommand with its flags bound to *options.
CLI::App* add_worker_options(CLI::App& app, WorkerOptions* options);

}  // namespace micronet_ad::cli
