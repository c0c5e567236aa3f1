// micronet-ad serve --listen HOST:PORT: the HTTP scoring service (host/serve/service.h), until
// SIGTERM/SIGINT.
#pragma once

#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "common_options.h"
#include "host/serve/service.h"
#include "output.h"

namespace micronet_ad::cli {

struct ServeOptions {
  std::string model;                      // --model: file or small|medium|large; "" for the default
  std::string thresholds;                 // --thresholds FILE (calibrate): answers get a decision
  std::string listen = "127.0.0.1:8080";  // --listen HOST:PORT (port 0: any free port)
  double max_body_mb = 32.0;              // --max-body-mb: largest request body in MiB
  ScoreModeOptions mode;                  // --framing, --resize
  // Bound directly: --profile, --workers, --max-queue, --max-seconds, --max-enrol-clips,
  // --request-timeout (and its old name --read-timeout), --write-timeout, --keep-alive-timeout,
  // --max-requests-per-connection, --max-connections, --drain-timeout, --kernels. The rest of
  // the service's configuration comes from the fields above (service_config).
  host::ServiceConfig service;
};

// The service's configuration: `options.service` with the address of --listen, the body limit in
// bytes and the front-end mode. Throws std::invalid_argument for a --listen that is not HOST:PORT.
host::ServiceConfig service_config(const ServeOptions& options);

// Serves until SIGTERM/SIGINT (or the server loop ends by itself), then answers the requests in
// flight (within --drain-timeout) and returns 0. Prints the bound address on `out` once it
// listens. Throws when the service cannot start: a bad --listen, the model, the thresholds or
// profile files, an address it cannot bind.
int run_serve(const ServeOptions& options, std::FILE* out);

// The `serve` subcommand with its flags bound to *options.
CLI::App* add_serve_options(CLI::App& app, ServeOptions* options);

}  // namespace micronet_ad::cli
