// Stop signals are blocked before the service's threads start and taken by this thread alone, so
// no worker is ever interrupted by one; the bound address (port 0 picks a free one) is the first
// line of output, for scripts and tests that start a server on any port.
#include "cmd_serve.h"

#include <pthread.h>
#include <signal.h>

#include <optional>
#include <string>
#include <thread>

#include <fmt/core.h>

#include "commands.h"
#include "host/io/default_model.h"
#include "host/stream/stop_signal.h"
#include "scoring.h"

namespace micronet_ad::cli {
namespace {

// Runs the server loop on its own thread until a stop signal (or its own end, which it reports
// with SIGUSR1), then drains it. Returns the signal.
int serve_until_stopped(host::Service& service, host::BlockedStopSignals& stop_signals) {
  const pthread_t main_thread = pthread_self();
  std::thread server([&] {
    service.run();
    pthread_kill(main_thread, SIGUSR1);
  });
  const int received = stop_signals.wait();
  service.stop();  // drains within --drain-timeout
  server.join();
  return received;
}

const char* stop_reason(int signal_number) {
  return signal_number == SIGUSR1 ? "the server loop ended" : signal_number == SIGINT ? "SIGINT" : "SIGTERM";
}

}  // namespace

host::ServiceConfig service_config(const ServeOptions& options) {
  host::ServiceConfig config = options.service;
  host::parse_listen_address(options.listen, &config.host, &config.port);
  config.max_body_bytes = mib_bytes(options.max_body_mb);
  config.framing = options.mode.framing;
  config.resize = options.mode.resize;
  return config;
}

int run_serve(const ServeOptions& options, std::FILE* out) {
  const host::ServiceConfig config = service_config(options);
  const auto file = host::load_default_model(options.model);
  std::optional<host::ThresholdSet> thresholds = service_thresholds(options.thresholds, *file, "serve");
  host::BlockedStopSignals stop_signals({SIGUSR1});  // SIGUSR1: the server loop ended by itself
  signal(SIGPIPE, SIG_IGN);                          // a client that hangs up is a failed write, not a dead server
  host::Service service(*file, std::move(thresholds), config);
  const int port = service.bind();
  const std::string machines =
      config.profile_dir.empty() ? "" : fmt::format(", {} machine(s) in {}", service.machines(), config.profile_dir);
  print_text(out, fmt::format("micronet-ad serve: listening on http://{}:{} ({} workers, model {}{})\n", config.host,
                              port, service.workers(), file->path, machines));
  const int received = serve_until_stopped(service, stop_signals);
  std::fprintf(stderr, "micronet-ad serve: %s; stopped after answering the requests in flight\n",
               stop_reason(received));
  return 0;
}

CLI::App* add_serve_options(CLI::App& app, ServeOptions* options) {
  auto* cmd = app.add_subcommand(
      "serve",
      "HTTP scoring service: POST /v1/score, PUT/GET/DELETE /v1/machines/NAME, GET /v1/model, /healthz, /metrics");
  host::ServiceConfig& config = options->service;
  add_model_option(cmd, &options->model);
  cmd->add_option("--thresholds", options->thresholds, "Thresholds JSON (from calibrate): answers get a decision");
  cmd->add_option("--profile", config.profile_dir,
                  "Directory of machine profiles (created if missing): its <machine>.mnprof files are loaded at "
                  "start; PUT /v1/machines/NAME enrols a machine into it; POST /v1/score?machine=NAME scores by "
                  "distance from NAME's profile and decides by its threshold");
  cmd->add_option("--listen", options->listen, "HOST:PORT to listen on (port 0: any free port)")->capture_default_str();
  cmd->add_option("--workers", config.workers, "Scoring threads (default: one per core)")->check(CLI::Range(0, 256));
  cmd->add_option("--max-queue", config.max_queue, "Requests waiting for a busy worker before 503")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
  cmd->add_option("--max-body-mb", options->max_body_mb, "Largest request body in MiB (413 beyond)")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 1024.0));
  cmd->add_option("--max-seconds", config.max_seconds, "Longest clip in seconds (413 beyond)")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 86400.0));
  cmd->add_option("--max-enrol-clips", config.max_enrol_clips, "Most clips in one enrolment upload (413 beyond)")
      ->capture_default_str()
      ->check(CLI::Range(2, 100000));
  cmd->add_option("--request-timeout", config.request_timeout_seconds,
                  "Seconds a client has to send one request, headers and body (408 beyond)")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  cmd->add_option("--read-timeout", config.request_timeout_seconds, "Deprecated: the same as --request-timeout")
      ->check(CLI::Range(0.1, 3600.0));
  cmd->add_option("--write-timeout", config.write_timeout_seconds, "Seconds a client has to receive one answer")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  cmd->add_option("--keep-alive-timeout", config.keep_alive_seconds,
                  "Seconds an idle keep-alive connection waits for its next request")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  cmd->add_option("--max-requests-per-connection", config.max_requests_per_connection,
                  "Requests on one keep-alive connection before it is closed")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--max-connections", config.max_connections, "Open connections before new ones get an immediate 503")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--drain-timeout", config.drain_timeout_seconds,
                  "Seconds SIGTERM/SIGINT waits for the requests in flight before closing what is still open")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  add_mode_options(cmd, &options->mode);
  add_kernels_option(cmd, &config.kernels);
  return cmd;
}

void add_serve_command(CLI::App& app, int* exit_code) {
  static ServeOptions options;
  add_serve_options(app, &options)->callback([exit_code] { *exit_code = run_serve(options, stdout); });
}

}  // namespace micronet_ad::cli
