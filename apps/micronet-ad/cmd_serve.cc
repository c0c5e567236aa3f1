// micronet-ad serve --listen HOST:PORT: the HTTP scoring service (host/serve/service.h). Prints
// the bound address (port 0 picks a free one) on its first stdout line; SIGTERM/SIGINT stop it
// after the requests in flight are answered (within --drain-timeout). --profile DIR: the enrolled
// machines' profiles.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include <fmt/core.h>

#include "commands.h"
#include "common_options.h"
#include "host/eval/thresholds.h"
#include "host/io/default_model.h"
#include "host/io/model_info.h"
#include "host/serve/service.h"

namespace micronet_ad::cli {

void add_serve_command(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "serve", "HTTP scoring service: POST /v1/score, PUT/GET/DELETE /v1/machines/NAME, GET /v1/model, /healthz, /metrics");
  static std::string model, thresholds, listen = "127.0.0.1:8080";
  static host::ServiceConfig config;
  static ScoreModeOptions mode;
  static double max_body_mb = 32.0;
  add_model_option(cmd, &model);
  cmd->add_option("--thresholds", thresholds, "Thresholds JSON (from calibrate): answers get a decision");
  cmd->add_option("--profile", config.profile_dir,
                  "Directory of machine profiles (created if missing): its <machine>.mnprof files are loaded at "
                  "start; PUT /v1/machines/NAME enrols a machine into it; POST /v1/score?machine=NAME scores by "
                  "distance from NAME's profile and decides by its threshold");
  cmd->add_option("--listen", listen, "HOST:PORT to listen on (port 0: any free port)")->capture_default_str();
  cmd->add_option("--workers", config.workers, "Scoring threads (default: one per core)")->check(CLI::Range(0, 256));
  cmd->add_option("--max-queue", config.max_queue, "Requests waiting for a busy worker before 503")->capture_default_str()
      ->check(CLI::Range(0, 100000));
  cmd->add_option("--max-body-mb", max_body_mb, "Largest request body in MiB (413 beyond)")->capture_default_str()
      ->check(CLI::Range(0.001, 1024.0));
  cmd->add_option("--max-seconds", config.max_seconds, "Longest clip in seconds (413 beyond)")->capture_default_str()
      ->check(CLI::Range(0.1, 86400.0));
  cmd->add_option("--max-enrol-clips", config.max_enrol_clips, "Most clips in one enrolment upload (413 beyond)")
      ->capture_default_str()->check(CLI::Range(2, 100000));
  cmd->add_option("--request-timeout", config.request_timeout_seconds,
                  "Seconds a client has to send one request, headers and body (408 beyond)")
      ->capture_default_str()->check(CLI::Range(0.1, 3600.0));
  cmd->add_option("--read-timeout", config.request_timeout_seconds, "Deprecated: the same as --request-timeout")
      ->check(CLI::Range(0.1, 3600.0));
  cmd->add_option("--write-timeout", config.write_timeout_seconds, "Seconds a client has to receive one answer")
      ->capture_default_str()->check(CLI::Range(0.1, 3600.0));
  cmd->add_option("--keep-alive-timeout", config.keep_alive_seconds,
                  "Seconds an idle keep-alive connection waits for its next request")
      ->capture_default_str()->check(CLI::Range(0.1, 3600.0));
  cmd->add_option("--max-requests-per-connection", config.max_requests_per_connection,
                  "Requests on one keep-alive connection before it is closed")
      ->capture_default_str()->check(CLI::Range(1, 1000000));
  cmd->add_option("--max-connections", config.max_connections, "Open connections before new ones get an immediate 503")
      ->capture_default_str()->check(CLI::Range(1, 100000));
  cmd->add_option("--drain-timeout", config.drain_timeout_seconds,
                  "Seconds SIGTERM/SIGINT waits for the requests in flight before closing what is still open")
      ->capture_default_str()->check(CLI::Range(0.1, 3600.0));
  add_mode_options(cmd, &mode);
  add_kernels_option(cmd, &config.kernels);
  cmd->callback([exit_code] {
    host::parse_listen_address(listen, &config.host, &config.port);
    config.max_body_bytes = static_cast<std::size_t>(max_body_mb * 1024 * 1024);
    config.framing = mode.framing;
    config.resize = mode.resize;
    const auto file = host::load_default_model(model);
    std::optional<host::ThresholdSet> set;
    if (!thresholds.empty()) set = host::load_service_thresholds(thresholds, host::model_sha1(*file), "serve");

    // Stop signals are taken by sigwait() on this thread only: block them before any thread
    // starts (threads inherit the mask), so no worker is ever interrupted by one.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGUSR1);  // from the server thread when it ends by itself
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    signal(SIGPIPE, SIG_IGN);  // a client that hangs up is a failed write, not a dead server

    host::Service service(*file, std::move(set), config);
    const int port = service.bind();
    const std::string machines =
        config.profile_dir.empty() ? "" : fmt::format(", {} machine(s) in {}", service.machines(), config.profile_dir);
    fmt::print("micronet-ad serve: listening on http://{}:{} ({} workers, model {}{})\n", config.host, port,
               service.workers(), file->path, machines);
    std::fflush(stdout);

    const pthread_t main_thread = pthread_self();
    std::thread server([&] {
      service.run();
      pthread_kill(main_thread, SIGUSR1);
    });
    int received = 0;
    sigwait(&stop_signals, &received);
    service.stop();  // drains within --drain-timeout
    server.join();
    std::fprintf(stderr, "micronet-ad serve: %s; stopped after answering the requests in flight\n",
                 received == SIGUSR1 ? "the server loop ended" : received == SIGINT ? "SIGINT" : "SIGTERM");
    *exit_code = 0;
  });
}

}  // namespace micronet_ad::cli
