// micronet-ad publish --broker URL PATH...: the fleet simulator — N virtual sensors publish clips
// over MQTT at R clips/s in total and it reports what came back (host/fleet/simulator.h).
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "host/fleet/cli_connection.h"
#include "host/fleet/simulator.h"
#include "output.h"

namespace micronet_ad::cli {

struct PublishOptions {
  // --broker (required), --username, --password-file, --cafile, --cert, --key, --session-expiry,
  // --keepalive, and --id: the MQTT client id ("": fleet-sim-<run id>).
  host::fleet::ConnectionOptions connection;
  // --machines, --rate (0: as fast as possible), --clips (0: one per machine), --machine-prefix,
  // --machine-id, --run-id ("": from the clock), --idle-timeout.
  host::fleet::SimulatorConfig simulation;
  std::vector<std::string> paths;  // clips (audio files, or directories of them) published in turn
  std::string answers_path;        // --answers FILE: every score and error received, one JSON line each
};

// The simulation's configuration: a run id from the clock when none is given, the client id
// from it, the broker connection. Throws std::invalid_argument for a bad --broker,
// std::runtime_error for an unreadable --password-file.
host::fleet::SimulatorConfig simulator_config(const PublishOptions& options);

// Publishes the clips, waits for the answers and prints the report (one JSON line) on `out`.
// Returns 1 when clips were lost or the answers file could not be written, else 0. Throws when
// the run cannot start (the options above, a clip that cannot be read, the answers file, the
// broker).
int run_publish(const PublishOptions& options, std::FILE* out);

// The `publish` subcommand with its flags bound to *options.
CLI::App* add_publish_options(CLI::App& app, PublishOptions* options);

}  // namespace micronet_ad::cli
