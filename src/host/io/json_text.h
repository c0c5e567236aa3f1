// JSON text for the wire (HTTP bodies, MQTT payloads, JSON lines): one line, and strings that are
// not UTF-8 — which requests, topics and file names can carry — become U+FFFD instead of an
// exception. The one place that choice is made.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace micronet_ad::host {

inline std::string wire_json(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace micronet_ad::host
