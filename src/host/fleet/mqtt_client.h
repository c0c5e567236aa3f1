// A small RAII wrapper around libmosquitto (MQTT v5): one connection with its own network thread,
// automatic reconnection with exponential back-off (also after the errors on which
// mosquitto_loop_forever gives up, such as a TLS stream cut by a broker restart), TLS and
// username/password, a persistent session (clean start off + session expiry) and subscriptions
// renewed on every connect.
//
// Why the acknowledgement of a received QoS 1 message waits for the application: libmosquitto
// 2.0.11 (Debian 12) has no mosquitto_manual_ack (it came in 2.1) and queues the PUBACK *before*
// calling on_message — but with a network thread (threaded mode) it only writes it once on_message
// has returned (measured: a client killed with -9 inside on_message gets the message again, dup=1).
// So a handler that does its work inside on_message, and returns only once its results are
// acknowledged by the broker, acknowledges the clip after the score is published. That is why
// the handler runs on the network thread and why `receive_maximum` is 1 for workers.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <mosquitto.h>

#include "host/fleet/topics.h"

namespace micronet_ad::host::fleet {

using UserProperties = std::vector<std::pair<std::string, std::string>>;

struct MqttSettings {
  BrokerAddress broker;
  std::string client_id;
  std::string username, password;
  std::string ca_file, cert_file, key_file;  // TLS (mqtts:// or a CA file)
  bool clean_start = false;
  std::uint32_t session_expiry_seconds = 86400;  // how long the broker keeps the session offline
  int keepalive_seconds = 30;
  int receive_maximum = 0;                 // unacknowledged QoS 1 messages in flight to us; 0: the broker's
  std::vector<std::string> subscriptions;  // QoS 1, renewed on every connect
  std::string will_topic, will_payload;    // last will (retained), if a topic is given
};

struct MqttMessage {
  std::string topic;
  const std::uint8_t* payload = nullptr;
  std::size_t size = 0;
  UserProperties user_properties;
  bool retain = false;
  bool duplicate = false;  // the broker resends it (DUP flag is not exposed: always false)
  // The value of user property `name`, "" when absent.
  std::string property(const std::string& name) const;
};

class MqttClient {
 public:
  // Called on the network thread, one message at a time; the message is acknowledged when it returns.
  using OnMessage = std::function<void(const MqttMessage&)>;
  // Applies the settings (TLS files are checked here); throws std::runtime_error naming what failed.
  explicit MqttClient(MqttSettings settings, OnMessage on_message = {});
  ~MqttClient();  // disconnects cleanly and stops the network thread
  MqttClient(const MqttClient&) = delete;
  MqttClient& operator=(const MqttClient&) = delete;

  // Connects and starts the network thread; a broker that is not there yet is retried with
  // back-off (wait_connected tells). Throws std::runtime_error on a setup error.
  void start();
  bool wait_connected(double seconds);
  bool connected() const { return connected_; }
  // The broker's reason for refusing the last CONNECT ("" when none), e.g. "not authorized".
  std::string connect_error() const;
  std::uint64_t connects() const { return connects_; }

  // Queues a QoS 1 publish; returns its message id, or throws std::runtime_error naming the
  // reason (e.g. over the broker's maximum packet size: kOversize).
  // `track` false: nobody will wait_published() for it (its PUBACK is not kept).
  int publish(const std::string& topic, const void* data, std::size_t size, const UserProperties& properties = {},
              bool retain = false, bool track = true);
  // Waits for the broker's PUBACK of `mid`: its reason code (0 accepted, 0x87 not authorized, ...),
  // or -1 when `seconds` passed or `give_up` became true first.
  int wait_published(int mid, double seconds, const std::atomic<bool>* give_up = nullptr);
  // Every PUBACK received for tracked publishes nobody waited for yet (mid → reason code), and
  // forgets them: for a publisher with many messages in flight.
  std::map<int, int> take_acknowledged();
  // Subscribes (once, not renewed) and waits for the SUBACK: the granted QoS or reason code (≥ 0x80
  // refused), -1 on timeout.
  int subscribe_once(const std::string& filter, double seconds);
  void disconnect();

  static constexpr const char* kOversize = "larger than the broker's maximum packet size";

 private:
  static void on_connect(mosquitto*, void* self, int rc, int flags, const mosquitto_property* props);
  static void on_disconnect(mosquitto*, void* self, int rc, const mosquitto_property* props);
  static void on_publish(mosquitto*, void* self, int mid, int reason, const mosquitto_property* props);
  static void on_subscribe(mosquitto*, void* self, int mid, int count, const int* granted,
                           const mosquitto_property* props);
  static void on_message(mosquitto*, void* self, const mosquitto_message* message, const mosquitto_property* props);

  void run_network();

  MqttSettings settings_;
  OnMessage on_message_;
  mosquitto* mosq_ = nullptr;
  bool started_ = false;
  std::atomic<bool> stopping_{false};
  std::thread network_;
  std::atomic<bool> connected_{false};
  std::atomic<std::uint64_t> connects_{0};
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::map<int, int> acknowledged_;  // mid → PUBACK reason code, until collected
  std::map<int, int> untracked_;     // mids whose PUBACK nobody waits for
  std::map<int, int> subscribed_;    // mid → granted QoS of a subscribe_once
  std::string connect_error_;
};

// The first line of a password file (trailing newline and CR removed); throws naming the file.
std::string read_password_file(const std::string& path);

}  // namespace micronet_ad::host::fleet
