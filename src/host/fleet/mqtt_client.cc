#include "host/fleet/mqtt_client.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <stdexcept>

#include <mqtt_protocol.h>

namespace micronet_ad::host::fleet {
namespace {

void init_library_once() {
  static const int once = [] { return mosquitto_lib_init(); }();
  (void)once;
}

std::runtime_error mqtt_error(const std::string& what, int rc) {
  return std::runtime_error(what + ": " + mosquitto_strerror(rc));
}

// Owns a property list for one call.
struct Properties {
  mosquitto_property* list = nullptr;
  ~Properties() { mosquitto_property_free_all(&list); }
};

UserProperties read_user_properties(const mosquitto_property* props) {
  UserProperties out;
  char* name = nullptr;
  char* value = nullptr;
  for (const mosquitto_property* p =
           mosquitto_property_read_string_pair(props, MQTT_PROP_USER_PROPERTY, &name, &value, false);
       p != nullptr; p = mosquitto_property_read_string_pair(p, MQTT_PROP_USER_PROPERTY, &name, &value, true)) {
    out.emplace_back(name, value);
    std::free(name);
    std::free(value);
    name = value = nullptr;
  }
  return out;
}

}  // namespace

std::string MqttMessage::property(const std::string& name) const {
  for (const auto& [key, value] : user_properties)
    if (key == name) return value;
  return {};
}

std::string read_password_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot read the password file");
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

MqttClient::MqttClient(MqttSettings settings, OnMessage on_message)
    : settings_(std::move(settings)), on_message_(std::move(on_message)) {
  init_library_once();
  mosq_ =
      mosquitto_new(settings_.client_id.empty() ? nullptr : settings_.client_id.c_str(), settings_.clean_start, this);
  if (!mosq_)
    throw std::runtime_error("cannot create an MQTT client (out of memory or an empty client id with clean start off)");
  mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
  mosquitto_int_option(mosq_, MOSQ_OPT_TCP_NODELAY, 1);
  if (settings_.receive_maximum > 0) mosquitto_int_option(mosq_, MOSQ_OPT_RECEIVE_MAXIMUM, settings_.receive_maximum);
  mosquitto_threaded_set(mosq_, true);                // our thread runs the loop: packets are written by it alone
  mosquitto_reconnect_delay_set(mosq_, 1, 30, true);  // back-off while the broker is away
  if (!settings_.username.empty()) {
    if (int rc = mosquitto_username_pw_set(mosq_, settings_.username.c_str(),
                                           settings_.password.empty() ? nullptr : settings_.password.c_str()))
      throw mqtt_error("username/password", rc);
  }
  if (settings_.broker.tls || !settings_.ca_file.empty()) {
    if (settings_.ca_file.empty()) throw std::runtime_error("mqtts:// needs a CA file (--cafile)");
    if (int rc = mosquitto_tls_set(mosq_, settings_.ca_file.c_str(), nullptr,
                                   settings_.cert_file.empty() ? nullptr : settings_.cert_file.c_str(),
                                   settings_.key_file.empty() ? nullptr : settings_.key_file.c_str(), nullptr))
      throw mqtt_error("TLS files (CA " + settings_.ca_file + ", cert '" + settings_.cert_file + "', key '" +
                           settings_.key_file + "')",
                       rc);
  }
  if (!settings_.will_topic.empty()) {
    if (int rc =
            mosquitto_will_set_v5(mosq_, settings_.will_topic.c_str(), static_cast<int>(settings_.will_payload.size()),
                                  settings_.will_payload.data(), 1, true, nullptr))
      throw mqtt_error("last will", rc);
  }
  mosquitto_connect_v5_callback_set(mosq_, &MqttClient::on_connect);
  mosquitto_disconnect_v5_callback_set(mosq_, &MqttClient::on_disconnect);
  mosquitto_publish_v5_callback_set(mosq_, &MqttClient::on_publish);
  mosquitto_subscribe_v5_callback_set(mosq_, &MqttClient::on_subscribe);
  mosquitto_message_v5_callback_set(mosq_, &MqttClient::on_message);
}

MqttClient::~MqttClient() {
  disconnect();
  mosquitto_destroy(mosq_);
}

void MqttClient::start() {
  Properties props;
  if (!settings_.clean_start || settings_.session_expiry_seconds > 0)
    mosquitto_property_add_int32(&props.list, MQTT_PROP_SESSION_EXPIRY_INTERVAL, settings_.session_expiry_seconds);
  // A refused first connect (broker not up yet) is retried by the network thread like any other.
  const int rc = mosquitto_connect_bind_v5(mosq_, settings_.broker.host.c_str(), settings_.broker.port,
                                           settings_.keepalive_seconds, nullptr, props.list);
  if (rc == MOSQ_ERR_INVAL || rc == MOSQ_ERR_NOMEM || rc == MOSQ_ERR_TLS)
    throw mqtt_error("connecting to " + settings_.broker.host + ":" + std::to_string(settings_.broker.port), rc);
  started_ = true;
  network_ = std::thread([this] { run_network(); });
}

// mosquitto_loop_forever reconnects by itself after a lost connection, but returns for good on
// errors it deems fatal — a TLS stream cut by a broker restart is one (MOSQ_ERR_TLS) — which
// would leave a worker silently disconnected. So it runs in a loop of our own, with back-off.
void MqttClient::run_network() {
  int delay_seconds = 1;
  while (!stopping_) {
    mosquitto_loop_forever(mosq_, 1000, 1);
    if (stopping_) break;
    connected_ = false;
    changed_.notify_all();
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait_for(lock, std::chrono::seconds(delay_seconds), [&] { return stopping_.load(); });
    }
    if (stopping_) break;
    delay_seconds = mosquitto_reconnect(mosq_) == MOSQ_ERR_SUCCESS ? 1 : std::min(delay_seconds * 2, 30);
  }
}

bool MqttClient::wait_connected(double seconds) {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, std::chrono::duration<double>(seconds), [&] { return connected_.load(); });
}

std::string MqttClient::connect_error() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return connect_error_;
}

int MqttClient::publish(const std::string& topic, const void* data, std::size_t size, const UserProperties& properties,
                        bool retain, bool track) {
  Properties props;
  for (const auto& [name, value] : properties)
    mosquitto_property_add_string_pair(&props.list, MQTT_PROP_USER_PROPERTY, name.c_str(), value.c_str());
  int mid = 0;
  const int rc = mosquitto_publish_v5(mosq_, &mid, topic.c_str(), static_cast<int>(size), data, 1, retain, props.list);
  if (rc == MOSQ_ERR_OVERSIZE_PACKET) throw std::runtime_error("publish to " + topic + ": " + kOversize);
  // Not connected is fine: libmosquitto keeps QoS 1 messages and sends them after reconnecting.
  if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN) throw mqtt_error("publish to " + topic, rc);
  if (!track) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (acknowledged_.erase(mid) == 0) untracked_[mid] = 1;  // else its PUBACK came already
  }
  return mid;
}

int MqttClient::wait_published(int mid, double seconds, const std::atomic<bool>* give_up) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    if (const auto it = acknowledged_.find(mid); it != acknowledged_.end()) {
      const int reason = it->second;
      acknowledged_.erase(it);
      return reason;
    }
    if (give_up && give_up->load()) return -1;
    if (std::chrono::steady_clock::now() >= deadline) return -1;
    // Short waits so a give-up flag set by a signal handler's thread is seen promptly.
    changed_.wait_for(lock, std::chrono::milliseconds(100));
  }
}

std::map<int, int> MqttClient::take_acknowledged() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::map<int, int> taken;
  taken.swap(acknowledged_);
  return taken;
}

int MqttClient::subscribe_once(const std::string& filter, double seconds) {
  int mid = 0;
  if (int rc = mosquitto_subscribe_v5(mosq_, &mid, filter.c_str(), 1, 0, nullptr))
    throw mqtt_error("subscribe " + filter, rc);
  std::unique_lock<std::mutex> lock(mutex_);
  if (!changed_.wait_for(lock, std::chrono::duration<double>(seconds), [&] { return subscribed_.count(mid) > 0; }))
    return -1;
  return subscribed_[mid];
}

void MqttClient::disconnect() {
  if (!started_) return;
  started_ = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  // Queued after any PUBACK of a message being handled now: the loop writes both, then closes.
  mosquitto_disconnect_v5(mosq_, MQTT_RC_NORMAL_DISCONNECTION, nullptr);
  if (network_.joinable()) network_.join();
  connected_ = false;
}

void MqttClient::on_connect(mosquitto* mosq, void* self, int rc, int, const mosquitto_property*) {
  auto* client = static_cast<MqttClient*>(self);
  if (rc == 0) {
    for (const std::string& filter : client->settings_.subscriptions)
      mosquitto_subscribe_v5(mosq, nullptr, filter.c_str(), 1, 0, nullptr);
    client->connects_++;
  }
  {
    std::lock_guard<std::mutex> lock(client->mutex_);
    client->connect_error_ = rc == 0 ? "" : mosquitto_reason_string(rc);
    client->connected_ = rc == 0;
  }
  client->changed_.notify_all();
}

void MqttClient::on_disconnect(mosquitto*, void* self, int, const mosquitto_property*) {
  auto* client = static_cast<MqttClient*>(self);
  client->connected_ = false;
  client->changed_.notify_all();
}

void MqttClient::on_publish(mosquitto*, void* self, int mid, int reason, const mosquitto_property*) {
  auto* client = static_cast<MqttClient*>(self);
  {
    std::lock_guard<std::mutex> lock(client->mutex_);
    if (client->untracked_.erase(mid) == 0) client->acknowledged_[mid] = reason;
  }
  client->changed_.notify_all();
}

void MqttClient::on_subscribe(mosquitto*, void* self, int mid, int count, const int* granted,
                              const mosquitto_property*) {
  auto* client = static_cast<MqttClient*>(self);
  {
    std::lock_guard<std::mutex> lock(client->mutex_);
    client->subscribed_[mid] = count > 0 ? granted[0] : -1;
  }
  client->changed_.notify_all();
}

void MqttClient::on_message(mosquitto*, void* self, const mosquitto_message* message, const mosquitto_property* props) {
  auto* client = static_cast<MqttClient*>(self);
  if (!client->on_message_) return;
  MqttMessage m;
  m.topic = message->topic ? message->topic : "";
  m.payload = static_cast<const std::uint8_t*>(message->payload);
  m.size = message->payloadlen > 0 ? static_cast<std::size_t>(message->payloadlen) : 0;
  m.retain = message->retain;
  m.user_properties = read_user_properties(props);
  client->on_message_(m);
}

}  // namespace micronet_ad::host::fleet
