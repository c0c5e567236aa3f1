// Stop signals are blocked before any network thread starts and taken by this thread alone; it
// also publishes the worker's retained status every --status-interval.
#include "cmd_worker.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "commands.h"
#include "host/io/default_model.h"
#include "host/io/model_info.h"
#include "host/stream/stop_signal.h"
#include "scoring.h"

namespace micronet_ad::cli {
namespace {

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "worker";
  return name;
}

// Waits until every connection is up; false when a stop signal came first.
bool wait_until_connected(host::fleet::FleetWorker& worker, const host::fleet::BrokerAddress& broker,
                          host::BlockedStopSignals& stop_signals) {
  if (worker.wait_connected(10.0)) return true;
  std::fprintf(stderr, "micronet-ad worker: %s:%d not reachable yet; retrying with back-off\n", broker.host.c_str(),
               broker.port);
  while (!worker.wait_connected(1.0)) {
    if (stop_signals.wait_for(0.0) > 0) return false;
  }
  return true;
}

// Publishes the retained status every `interval` seconds until a stop signal; returns it.
int publish_status_until_stopped(host::fleet::FleetWorker& worker, double interval,
                                 host::BlockedStopSignals& stop_signals) {
  int received = 0;
  while (received <= 0) {
    worker.publish_status(true);
    received = stop_signals.wait_for(interval);
  }
  return received;
}

}  // namespace

host::fleet::WorkerConfig worker_config(const WorkerOptions& options) {
  host::fleet::WorkerConfig config;
  config.connection = host::fleet::connection_settings(options.connection);
  config.id = options.id.empty() ? host_name() : options.id;
  config.group = options.group;
  config.sessions =
      options.threads > 0 ? options.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  config.drain_timeout_seconds = options.drain_timeout;
  return config;
}

host::fleet::ScoringSetup worker_scoring(const WorkerOptions& options, const host::ModelFile& file) {
  host::fleet::ScoringSetup scoring;
  scoring.model = &file;
  scoring.thresholds = service_thresholds(options.thresholds, file, "worker");
  if (!options.profile.empty())
    scoring.profiles = std::make_shared<host::ProfileSet>(
        host::ProfileSet::load(options.profile, host::model_sha1(file), options.mode.framing, options.mode.resize));
  scoring.framing = options.mode.framing;
  scoring.resize = options.mode.resize;
  scoring.kernels = options.kernels;
  scoring.max_seconds = options.max_seconds;
  scoring.max_payload_bytes = mib_bytes(options.max_payload_mb);
  return scoring;
}

int run_worker(const WorkerOptions& options, std::FILE* out) {
  const host::fleet::WorkerConfig config = worker_config(options);
  const auto file = host::load_default_model(options.model);
  host::fleet::ScoringSetup scoring = worker_scoring(options, *file);
  host::BlockedStopSignals stop_signals;  // before any network thread starts: threads inherit the mask
  signal(SIGPIPE, SIG_IGN);
  host::fleet::FleetWorker worker(config, std::move(scoring));
  worker.start();
  const host::fleet::BrokerAddress& broker = config.connection.broker;
  if (!wait_until_connected(worker, broker, stop_signals)) {
    worker.stop();
    return 0;
  }
  print_text(out, fmt::format("micronet-ad worker: {} joined {} on {}:{} ({} sessions, model {})\n", config.id,
                              worker.subscription(), broker.host, broker.port, config.sessions, file->path));
  const int received = publish_status_until_stopped(worker, options.status_interval, stop_signals);
  worker.stop();  // finishes the clips in hand, then disconnects
  const host::fleet::WorkerCounters c = worker.counters();
  std::fprintf(stderr, "micronet-ad worker: %s; stopped after %llu clips scored, %llu errors\n",
               received == SIGINT ? "SIGINT" : "SIGTERM", static_cast<unsigned long long>(c.clips_scored),
               static_cast<unsigned long long>(c.errors));
  return 0;
}

CLI::App* add_worker_options(CLI::App& app, WorkerOptions* options) {
  auto* cmd =
      app.add_subcommand("worker",
                         "Score a fleet's clips from an MQTT v5 broker: join the group's shared subscription to "
                         "micronet-ad/v1/+/clip, publish <machine>/score, /state (retained) and /error");
  host::fleet::add_connection_options(cmd, &options->connection);
  cmd->add_option("--group", options->group, "Worker group: workers of one group share the clips")
      ->capture_default_str();
  cmd->add_option("--id", options->id,
                  "This worker's name, unique in the group and the same after a restart (its sessions, and the clips "
                  "queued for them, are found by it; default: the host name)");
  cmd->add_option("--profile", options->profile,
                  "Machine profiles (a .mnprof file or a directory): a machine with one is scored by distance");
  cmd->add_option("--thresholds", options->thresholds,
                  "Thresholds JSON (from calibrate): machine-ID scores get a decision");
  add_model_option(cmd, &options->model);
  cmd->add_option("--threads", options->threads, "Sessions, each scoring one clip at a time (0: one per core)")
      ->capture_default_str()
      ->check(CLI::Range(0, 256));
  cmd->add_option("--max-seconds", options->max_seconds, "Longest clip in seconds of audio (error beyond)")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 86400.0));
  cmd->add_option("--max-payload-mb", options->max_payload_mb, "Largest clip payload in MiB (error beyond)")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 256.0));
  cmd->add_option("--status-interval", options->status_interval, "Seconds between retained status messages")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  cmd->add_option("--drain-timeout", options->drain_timeout,
                  "Seconds SIGTERM waits for the broker to accept the last results")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  add_mode_options(cmd, &options->mode);
  add_kernels_option(cmd, &options->kernels);
  return cmd;
}

void add_worker_command(CLI::App& app, int* exit_code) {
  static WorkerOptions options;
  add_worker_options(app, &options)->callback([exit_code] { *exit_code = run_worker(options, stdout); });
}

}  // namespace micronet_ad::cli
