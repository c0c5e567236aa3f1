// `micronet-ad worker`: joins the shared subscription of a group of workers on an MQTT v5 broker
// and scores the fleet's clips (host/fleet/worker.h; docs/fleet.md has the topics contract).
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <ctime>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "commands.h"
#include "common_options.h"
#include "host/eval/thresholds.h"
#include "host/fleet/cli_connection.h"
#include "host/fleet/worker.h"
#include "host/io/default_model.h"
#include "host/io/model_info.h"

namespace micronet_ad::cli {
namespace {

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "worker";
  return name;
}

}  // namespace

void add_worker_command(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("worker",
                                 "Score a fleet's clips from an MQTT v5 broker: join the group's shared subscription to "
                                 "micronet-ad/v1/+/clip, publish <machine>/score, /state (retained) and /error");
  static host::fleet::ConnectionOptions connection;
  static std::string model, thresholds, profile, id, group = "micronet-ad";
  static int threads = 0;
  static double max_seconds = 120.0, max_payload_mb = 32.0, status_interval = 5.0, drain_timeout = 10.0;
  static ScoreModeOptions mode;
  static KernelSet kernels = KernelSet::kAuto;
  host::fleet::add_connection_options(cmd, &connection);
  cmd->add_option("--group", group, "Worker group: workers of one group share the clips")->capture_default_str();
  cmd->add_option("--id", id,
                  "This worker's name, unique in the group and the same after a restart (its sessions, and the clips "
                  "queued for them, are found by it; default: the host name)");
  cmd->add_option("--profile", profile, "Machine profiles (a .mnprof file or a directory): a machine with one is scored by distance");
  cmd->add_option("--thresholds", thresholds, "Thresholds JSON (from calibrate): machine-ID scores get a decision");
  add_model_option(cmd, &model);
  cmd->add_option("--threads", threads, "Sessions, each scoring one clip at a time (0: one per core)")
      ->capture_default_str()->check(CLI::Range(0, 256));
  cmd->add_option("--max-seconds", max_seconds, "Longest clip in seconds of audio (error beyond)")->capture_default_str()
      ->check(CLI::Range(0.1, 86400.0));
  cmd->add_option("--max-payload-mb", max_payload_mb, "Largest clip payload in MiB (error beyond)")->capture_default_str()
      ->check(CLI::Range(0.001, 256.0));
  cmd->add_option("--status-interval", status_interval, "Seconds between retained status messages")->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  cmd->add_option("--drain-timeout", drain_timeout, "Seconds SIGTERM waits for the broker to accept the last results")
      ->capture_default_str()->check(CLI::Range(0.1, 3600.0));
  add_mode_options(cmd, &mode);
  add_kernels_option(cmd, &kernels);
  cmd->callback([exit_code] {
    host::fleet::WorkerConfig config;
    config.connection = host::fleet::connection_settings(connection);
    config.id = id.empty() ? host_name() : id;
    config.group = group;
    config.sessions = threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    config.drain_timeout_seconds = drain_timeout;
    const auto file = host::load_default_model(model);
    host::fleet::ScoringSetup scoring;
    scoring.model = file.get();
    if (!thresholds.empty()) scoring.thresholds = host::load_service_thresholds(thresholds, host::model_sha1(*file), "worker");
    if (!profile.empty())
      scoring.profiles = std::make_shared<host::ProfileSet>(
          host::ProfileSet::load(profile, host::model_sha1(*file), mode.framing, mode.resize));
    scoring.framing = mode.framing;
    scoring.resize = mode.resize;
    scoring.kernels = kernels;
    scoring.max_seconds = max_seconds;
    scoring.max_payload_bytes = static_cast<std::size_t>(max_payload_mb * 1024 * 1024);

    // Stop signals are taken by sigtimedwait() on this thread only: block them before any
    // network thread starts (threads inherit the mask).
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    signal(SIGPIPE, SIG_IGN);

    host::fleet::FleetWorker worker(config, scoring);
    worker.start();
    const host::fleet::BrokerAddress& broker = config.connection.broker;
    if (!worker.wait_connected(10.0))
      std::fprintf(stderr, "micronet-ad worker: %s:%d not reachable yet; retrying with back-off\n", broker.host.c_str(), broker.port);
    while (!worker.wait_connected(1.0)) {
      timespec poll{0, 0};
      if (sigtimedwait(&stop_signals, nullptr, &poll) > 0) {
        worker.stop();
        *exit_code = 0;
        return;
      }
    }
    fmt::print("micronet-ad worker: {} joined {} on {}:{} ({} sessions, model {})\n", config.id, worker.subscription(),
               broker.host, broker.port, config.sessions, file->path);
    std::fflush(stdout);
    int received = 0;
    while (received <= 0) {
      worker.publish_status(true);
      const timespec wait{static_cast<time_t>(status_interval), static_cast<long>((status_interval - static_cast<time_t>(status_interval)) * 1e9)};
      received = sigtimedwait(&stop_signals, nullptr, &wait);
    }
    worker.stop();  // finishes the clips in hand, then disconnects
    const host::fleet::WorkerCounters c = worker.counters();
    std::fprintf(stderr, "micronet-ad worker: %s; stopped after %llu clips scored, %llu errors\n",
                 received == SIGINT ? "SIGINT" : "SIGTERM", static_cast<unsigned long long>(c.clips_scored),
                 static_cast<unsigned long long>(c.errors));
    *exit_code = 0;
  });
}

}  // namespace micronet_ad::cli
