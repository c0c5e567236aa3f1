#include "host/fleet/worker.h"

#include <algorithm>
#include <chrono>
#include <optional>

#include "host/io/json_text.h"

namespace micronet_ad::host::fleet {
namespace {

std::string dump(const nlohmann::ordered_json& j) { return wire_json(j); }

}  // namespace

struct FleetWorker::Session {
  std::unique_ptr<ClipHandler> handler;
  std::unique_ptr<MqttClient> client;
};

FleetWorker::FleetWorker(WorkerConfig config, ScoringSetup scoring)
    : config_(std::move(config)), scoring_(std::move(scoring)) {
  if (config_.id.empty() || config_.id.find_first_of("/+#") != std::string::npos)
    throw std::invalid_argument("worker id '" + config_.id + "' must be non-empty without '/', '+' or '#'");
  scoring_.worker = config_.id;
  started_at_ = utc_now_iso8601();
  MqttSettings pub = config_.connection;
  pub.client_id = config_.id + "-pub";
  pub.subscriptions.clear();
  pub.will_topic = worker_status_topic(config_.id);
  pub.will_payload = dump(status_json(false));
  publisher_ = std::make_unique<MqttClient>(pub);
  for (int i = 0; i < std::max(1, config_.sessions); ++i) {
    auto session = std::make_unique<Session>();
    session->handler = std::make_unique<ClipHandler>(scoring_);
    MqttSettings sub = config_.connection;
    sub.client_id = config_.id + "-" + std::to_string(i);
    sub.subscriptions = {subscription()};
    sub.receive_maximum = config_.prefetch;
    Session* s = session.get();
    session->client = std::make_unique<MqttClient>(sub, [this, s](const MqttMessage& m) { on_clip(*s, m); });
    sessions_.push_back(std::move(session));
  }
}

FleetWorker::~FleetWorker() { stop(); }

void FleetWorker::start() {
  publisher_->start();  // first, so the first clip's results have a way out
  for (auto& s : sessions_) s->client->start();
}

bool FleetWorker::wait_connected(double seconds) {
  if (!publisher_->wait_connected(seconds)) return false;
  for (auto& s : sessions_)
    if (!s->client->wait_connected(seconds)) return false;
  return true;
}

// Publishes with QoS 1 and waits for the broker's acknowledgement — as long as it takes while
// running (the broker may be restarting), at most the drain timeout once stopping. libmosquitto
// resends in-flight messages after a reconnect, but not always (seen after a broker restart with
// the message in flight): a message still unacknowledged a second after the publisher came
// back is published again. A duplicate result is harmless (same clip_id); a lost one is not.
bool FleetWorker::publish_and_wait(const std::string& topic, const std::string& payload, bool retain) {
  return deliver({{&topic, &payload, retain}});
}

// The score, then the retained state: in flight together (one round trip), both waited for.
bool FleetWorker::publish_both_and_wait(const std::string& score_topic, const std::string& score,
                                        const std::string& state_topic, const std::string& state) {
  return deliver({{&score_topic, &score, false}, {&state_topic, &state, true}});
}

bool FleetWorker::deliver(const std::vector<Outgoing>& messages) {
  struct InFlight {
    int mid = -1;
    std::uint64_t connects = 0;  // the publisher's connection count when sent
    int reason = -1;
  };
  std::vector<InFlight> flight(messages.size());
  const auto send = [&](std::size_t i) {
    flight[i].connects = publisher_->connects();
    try {
      flight[i].mid = publisher_->publish(*messages[i].topic, messages[i].payload->data(), messages[i].payload->size(),
                                          {}, messages[i].retain);
    } catch (const std::exception&) {
      flight[i].mid = -1;
      flight[i].reason = 0x80;  // refused locally (e.g. too large): nothing to wait for
    }
  };
  for (std::size_t i = 0; i < messages.size(); ++i) send(i);
  const auto stop_deadline = [&] {
    return std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                  std::chrono::duration<double>(config_.drain_timeout_seconds));
  };
  std::optional<std::chrono::steady_clock::time_point> give_up;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    while (flight[i].reason < 0) {
      flight[i].reason = publisher_->wait_published(flight[i].mid, 1.0, nullptr);
      if (flight[i].reason >= 0) break;
      if (stopping_) {
        if (!give_up) give_up = stop_deadline();
        if (std::chrono::steady_clock::now() >= *give_up) break;
      }
      if (publisher_->connected() && publisher_->connects() != flight[i].connects) send(i);  // came back: again
    }
  }
  bool all = true;
  for (const InFlight& f : flight) {
    // 0x10 "no matching subscribers" is an acceptance too: nobody listens to that machine now.
    const bool accepted = f.reason >= 0 && f.reason < 0x80;
    if (!accepted) publish_failures_++;
    all = all && accepted;
  }
  return all;
}

void FleetWorker::on_clip(Session& session, const MqttMessage& message) {
  const auto received = std::chrono::steady_clock::now();
  in_hand_++;
  const ClipOutcome out = session.handler->handle(message, received);
  const std::string machine = out.machine.empty() ? "_unknown" : out.machine;
  if (out.scored) {
    // Both in flight at once: one round trip to the broker, not two.
    publish_both_and_wait(machine_topic(machine, "score"), dump(out.score), machine_topic(machine, "state"),
                          dump(out.state));
    scored_++;
    record_latency(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - received).count());
  } else {
    publish_and_wait(machine_topic(machine, "error"), dump(out.error), false);
    errors_++;
  }
  in_hand_--;
  // Returning lets libmosquitto write this clip's PUBACK: only now is it acknowledged.
}

void FleetWorker::record_latency(double ms) {
  std::lock_guard<std::mutex> lock(latency_mutex_);
  latencies_[latency_count_++ % latencies_.size()] = ms;
}

WorkerCounters FleetWorker::counters() const {
  WorkerCounters c;
  c.clips_scored = scored_;
  c.errors = errors_;
  c.publish_failures = publish_failures_;
  c.in_hand = in_hand_;
  std::vector<double> recent;
  {
    std::lock_guard<std::mutex> lock(latency_mutex_);
    recent.assign(latencies_.begin(),
                  latencies_.begin() + static_cast<long>(std::min(latency_count_, latencies_.size())));
  }
  if (!recent.empty()) {
    std::sort(recent.begin(), recent.end());
    const auto at = [&](double q) {
      return recent[std::min(recent.size() - 1, static_cast<std::size_t>(q * recent.size()))];
    };
    c.latency_p50_ms = at(0.5);
    c.latency_p99_ms = at(0.99);
    c.latency_max_ms = recent.back();
  }
  return c;
}

nlohmann::ordered_json FleetWorker::status_json(bool alive) const {
  const WorkerCounters c = counters();
  return {{"worker", config_.id},
          {"alive", alive},
          {"group", config_.group},
          {"sessions", sessions_.empty() ? config_.sessions : static_cast<int>(sessions_.size())},
          {"clips_scored", c.clips_scored},
          {"errors", c.errors},
          {"publish_failures", c.publish_failures},
          {"in_hand", c.in_hand},
          {"latency_p50_ms", c.latency_p50_ms},
          {"latency_p99_ms", c.latency_p99_ms},
          {"latency_max_ms", c.latency_max_ms},
          {"started_at", started_at_},
          {"time", utc_now_iso8601()}};
}

void FleetWorker::publish_status(bool alive) {
  const std::string payload = dump(status_json(alive));
  try {
    publisher_->publish(worker_status_topic(config_.id), payload.data(), payload.size(), {}, true, /*track=*/!alive);
  } catch (const std::exception&) {
    publish_failures_++;
  }
}

void FleetWorker::stop() {
  if (stopped_) return;
  stopped_ = true;
  stopping_ = true;
  // Each session's network thread finishes its clip (results published, then PUBACK) before
  // its DISCONNECT goes out; loop_stop joins it.
  for (auto& s : sessions_) s->client->disconnect();
  const std::string payload = dump(status_json(false));
  try {
    const int mid = publisher_->publish(worker_status_topic(config_.id), payload.data(), payload.size(), {}, true);
    publisher_->wait_published(mid, 2.0);
  } catch (const std::exception&) {
  }
  publisher_->disconnect();
}

}  // namespace micronet_ad::host::fleet
