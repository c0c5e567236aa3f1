// JSON text for the wire (HTTP bodies, MQTT payloads, JSON lines): one line, and strings that are
// not UTF-8 — which requests, topics and file names can carry — become U+FFFD instead of an
// exception. The one place that choice is made. pretty_json is the same for people: indented by 2,
// as the CLI prints documents (inspect --json, score --format json, ...).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace micronet_ad::host {

inline std::string wire_json(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

inline std::string pretty_json(const nlohmann::ordered_json& j) {
  return j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace micronet_ad::host
