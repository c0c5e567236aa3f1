// The broker options `micronet-ad worker` and `micronet-ad publish` share (CLI11), and how they
// become MqttSettings.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "host/fleet/mqtt_client.h"

namespace micronet_ad::host::fleet {

struct ConnectionOptions {
  std::string broker;  // mqtt://HOST:PORT or mqtts://HOST:PORT
  std::string client_id;
  std::string username, password_file;
  std::string ca_file, cert_file, key_file;
  std::uint32_t session_expiry_seconds = 86400;
  int keepalive_seconds = 30;
};

inline void add_connection_options(CLI::App* cmd, ConnectionOptions* o) {
  cmd->add_option("--broker", o->broker, "MQTT v5 broker: mqtt://HOST:PORT, or mqtts://HOST:PORT for TLS")->required();
  cmd->add_option("--username", o->username, "User name for the broker");
  cmd->add_option("--password-file", o->password_file, "File whose first line is the password");
  cmd->add_option("--cafile", o->ca_file, "CA certificate (PEM) the broker's certificate must chain to; turns TLS on");
  cmd->add_option("--cert", o->cert_file, "Client certificate (PEM) for brokers that require one");
  cmd->add_option("--key", o->key_file, "Client private key (PEM) of --cert");
  cmd->add_option("--session-expiry", o->session_expiry_seconds,
                  "Seconds the broker keeps this client's session (and its queued clips) while it is away")
      ->capture_default_str();
  cmd->add_option("--keepalive", o->keepalive_seconds, "MQTT keep-alive in seconds")
      ->capture_default_str()
      ->check(CLI::Range(5, 65535));
}

inline MqttSettings connection_settings(const ConnectionOptions& o) {
  MqttSettings s;
  s.broker = parse_broker_address(o.broker);
  s.client_id = o.client_id;
  s.username = o.username;
  if (!o.password_file.empty()) s.password = read_password_file(o.password_file);
  s.ca_file = o.ca_file;
  s.cert_file = o.cert_file;
  s.key_file = o.key_file;
  s.session_expiry_seconds = o.session_expiry_seconds;
  s.keepalive_seconds = o.keepalive_seconds;
  return s;
}

}  // namespace micronet_ad::host::fleet
