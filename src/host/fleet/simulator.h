// The fleet simulator behind `micronet-ad publish`: N virtual sensors publish clips at R clips/s
// in total (QoS 1, user properties clip_id, machine_id, captured_at) over one MQTT connection,
// and listen to every machine's score and error topics to tell what came back: clips answered
// once, duplicates (the same clip_id again), lost (never answered), and the end-to-end latency
// from publish to answer. Like a real sensor should, it keeps a clip the broker acknowledged with
// reason 0x10 "no matching subscribers" (no worker subscribed: none started yet, or mosquitto
// 2.0 just restarted — it does not restore shared subscriptions from persistence until their
// workers reconnect) and publishes it again half a second later.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/fleet/mqtt_client.h"

namespace micronet_ad::host::fleet {

struct SimulatorConfig {
  MqttSettings connection;  // client id, credentials, TLS (subscriptions are set here)
  int machines = 10;
  double rate = 10.0;  // clips/s over all machines; 0: as fast as possible
  long clips = 0;      // clips in all (0: one per machine)
  std::string machine_prefix = "m";
  std::string machine_id;              // user property machine_id on every clip ("": none)
  std::string run_id;                  // starts every clip_id ("": from the clock)
  double idle_timeout_seconds = 30.0;  // give up waiting once nothing came back for this long
};

struct SimulatorReport {
  long sent = 0, refused = 0, scored = 0, errors = 0, lost = 0, duplicates = 0;
  long resent = 0;  // publishes the broker acknowledged with "no matching subscribers" (0x10), sent again
  double seconds = 0.0, publish_seconds = 0.0;
  double throughput = 0.0;  // answered clips/s over the whole run
  double latency_p50_ms = 0.0, latency_p99_ms = 0.0, latency_max_ms = 0.0;
  nlohmann::ordered_json to_json() const;
};

// "<prefix><index>" with the index zero-padded to the width of machines-1 ("m0007" of 1000).
std::string simulated_machine_name(const std::string& prefix, int index, int machines);

// Publishes clips[i % clips.size()] as clip i to machine i % machines, then waits for the
// answers. `on_answer` (optional) sees every score and error message (topic, JSON text) as it
// arrives, duplicates included. `progress` (optional) is called after each publish with the
// count sent. Throws std::runtime_error when the broker cannot be reached or refuses us.
SimulatorReport run_fleet_simulation(const SimulatorConfig& config, const std::vector<std::vector<std::uint8_t>>& clips,
                                     const std::function<void(const std::string&, const std::string&)>& on_answer = {},
                                     const std::function<void(long)>& progress = {});

}  // namespace micronet_ad::host::fleet
