#include "host/fleet/topics.h"

#include <stdexcept>

namespace micronet_ad::host::fleet {

bool valid_machine_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxMachineName) return false;
  for (const char c : name) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::string machine_topic(const std::string& machine, const char* kind) {
  return std::string(kTopicRoot) + machine + "/" + kind;
}

std::optional<std::string> clip_topic_machine(std::string_view topic) {
  const std::string_view root = kTopicRoot, suffix = "/clip";
  if (topic.size() <= root.size() + suffix.size() || topic.substr(0, root.size()) != root ||
      topic.substr(topic.size() - suffix.size()) != suffix)
    return std::nullopt;
  const std::string_view machine = topic.substr(root.size(), topic.size() - root.size() - suffix.size());
  if (machine.find('/') != std::string_view::npos) return std::nullopt;
  return std::string(machine);
}

std::string shared_clip_subscription(const std::string& group) {
  return "$share/" + group + "/" + kTopicRoot + "+/clip";
}

std::string worker_status_topic(const std::string& worker) { return "micronet-ad/workers/" + worker + "/status"; }

BrokerAddress parse_broker_address(const std::string& url) {
  BrokerAddress address;
  std::string rest;
  if (url.rfind("mqtt://", 0) == 0) {
    rest = url.substr(7);
  } else if (url.rfind("mqtts://", 0) == 0) {
    rest = url.substr(8);
    address.tls = true;
    address.port = 8883;
  } else {
    throw std::invalid_argument("--broker '" + url + "': expected mqtt://HOST:PORT or mqtts://HOST:PORT");
  }
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  std::string port_text;
  if (!rest.empty() && rest.front() == '[') {  // [::1]:1883
    const std::size_t close = rest.find(']');
    if (close == std::string::npos) throw std::invalid_argument("--broker '" + url + "': unclosed '['");
    address.host = rest.substr(1, close - 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') throw std::invalid_argument("--broker '" + url + "': expected ':' after ']'");
      port_text = rest.substr(close + 2);
    }
  } else {
    const std::size_t colon = rest.rfind(':');
    address.host = rest.substr(0, colon);
    if (colon != std::string::npos) port_text = rest.substr(colon + 1);
  }
  if (address.host.empty()) throw std::invalid_argument("--broker '" + url + "': no host");
  if (!port_text.empty() || rest.find(':') != std::string::npos) {
    if (port_text.empty() || port_text.size() > 5 || port_text.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(port_text) < 1 || std::stoi(port_text) > 65535)
      throw std::invalid_argument("--broker '" + url + "': port '" + port_text + "' is not a number in 1..65535");
    address.port = std::stoi(port_text);
  }
  return address;
}

}  // namespace micronet_ad::host::fleet
