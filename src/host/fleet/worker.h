// `micronet-ad worker`: scores the clips of a fleet from an MQTT v5 broker. Each session is one
// MQTT connection in the shared subscription $share/<group>/micronet-ad/v1/+/clip, with its own
// ClipScorer, a persistent session (client id "<worker>-<n>", clean start off, a session expiry)
// and at most one clip in flight (receive maximum 1): the broker hands the next clip to whichever
// session of the group is free. A clip is acknowledged only after its score (or error) and
// state have been accepted by the broker (see mqtt_client.h for how, on libmosquitto 2.0), so a
// worker killed at any moment loses nothing: its session gets the clip again when it returns.
// Results go out on one publishing connection ("<worker>-pub"), with the worker's retained
// status on micronet-ad/workers/<worker>/status (its last will says alive=false).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/fleet/clip_handler.h"
#include "host/fleet/mqtt_client.h"

namespace micronet_ad::host::fleet {

struct WorkerConfig {
  MqttSettings connection;  // broker, credentials, TLS, session expiry; ids and subscriptions are set here
  std::string id;           // the worker's name: stable across restarts, unique in the group
  std::string group = "micronet-ad";
  int sessions = 1;
  // Unacknowledged clips the broker may push to a session ahead (MQTT receive maximum); they are
  // scored one at a time and each is acknowledged only after its results (mqtt_client.h).
  int prefetch = 0;                     // 0: libmosquitto's default (20)
  double drain_timeout_seconds = 10.0;  // stop(): longest wait for a result's acknowledgement
};

struct WorkerCounters {
  std::uint64_t clips_scored = 0, errors = 0, publish_failures = 0;
  int in_hand = 0;  // clips being scored now (the worker's queue: at most one per session)
  double latency_p50_ms = 0.0, latency_p99_ms = 0.0, latency_max_ms = 0.0;  // last 1024 clips
};

class FleetWorker {
 public:
  FleetWorker(WorkerConfig config, ScoringSetup scoring);
  ~FleetWorker();
  // Connects the publisher and every session (their network threads take it from there).
  void start();
  // True once every connection is up.
  bool wait_connected(double seconds);
  // Publishes the retained status (liveness and counters).
  void publish_status(bool alive = true);
  // Finishes the clips in hand, disconnects the sessions, then publishes alive=false and
  // disconnects the publisher. Idempotent.
  void stop();
  WorkerCounters counters() const;
  nlohmann::ordered_json status_json(bool alive) const;
  std::string subscription() const { return shared_clip_subscription(config_.group); }

 private:
  struct Session;
  void on_clip(Session& session, const MqttMessage& message);
  bool publish_and_wait(const std::string& topic, const std::string& payload, bool retain);
  bool publish_both_and_wait(const std::string& score_topic, const std::string& score, const std::string& state_topic,
                             const std::string& state);
  struct Outgoing {
    const std::string* topic;
    const std::string* payload;
    bool retain;
  };
  bool deliver(const std::vector<Outgoing>& messages);
  void record_latency(double ms);

  WorkerConfig config_;
  ScoringSetup scoring_;
  std::unique_ptr<MqttClient> publisher_;
  std::vector<std::unique_ptr<Session>> sessions_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> scored_{0}, errors_{0}, publish_failures_{0};
  std::atomic<int> in_hand_{0};
  mutable std::mutex latency_mutex_;
  std::array<double, 1024> latencies_{};
  std::size_t latency_count_ = 0;
  std::string started_at_;
  bool stopped_ = false;
};

}  // namespace micronet_ad::host::fleet
