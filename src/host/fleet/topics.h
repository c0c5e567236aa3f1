// The fleet's MQTT topics (docs/fleet.md is the contract) and the broker address a worker or
// sensor is given. Pure string work: no MQTT library here, so it is cheap to test and fuzz.
//
//   micronet-ad/v1/<machine>/clip    sensor → workers: a clip (WAV/FLAC bytes), QoS 1
//   micronet-ad/v1/<machine>/score   worker → sensor: the clip JSON of `score --format json`
//   micronet-ad/v1/<machine>/state   retained: the machine's latest decision
//   micronet-ad/v1/<machine>/error   a clip that could not be scored, and why
//   micronet-ad/workers/<worker>/status  retained: a worker's liveness and counters
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace micronet_ad::host::fleet {

inline constexpr const char* kTopicRoot = "micronet-ad/v1/";
inline constexpr std::size_t kMaxMachineName = 64;

// A machine name is a single topic level: 1..64 of [A-Za-z0-9_.-] (no '/', '+', '#', '$').
bool valid_machine_name(std::string_view name);
// "micronet-ad/v1/<machine>/<kind>".
std::string machine_topic(const std::string& machine, const char* kind);
// The machine of a "micronet-ad/v1/<machine>/clip" topic; nullopt for any other topic.
std::optional<std::string> clip_topic_machine(std::string_view topic);
// The shared subscription workers of `group` join: "$share/<group>/micronet-ad/v1/+/clip".
std::string shared_clip_subscription(const std::string& group);
std::string worker_status_topic(const std::string& worker);

struct BrokerAddress {
  std::string host;
  int port = 1883;
  bool tls = false;
};
// "mqtt://HOST[:PORT]" (default 1883) or "mqtts://HOST[:PORT]" (TLS, default 8883); "[::1]" for
// IPv6. Throws std::invalid_argument naming what is wrong.
BrokerAddress parse_broker_address(const std::string& url);

}  // namespace micronet_ad::host::fleet
