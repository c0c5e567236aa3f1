#include "host/fleet/simulator.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "host/fleet/clip_handler.h"

namespace micronet_ad::host::fleet {
namespace {

using Clock = std::chrono::steady_clock;

// What came back, filled in on the client's network thread.
struct Answers {
  std::mutex mutex;
  std::condition_variable changed;
  std::map<std::string, Clock::time_point> sent_at;  // clip_id → publish time
  std::map<std::string, int> answers;                // clip_id → answers received
  std::vector<double> latencies_ms;
  long scored = 0, errors = 0, duplicates = 0;
  Clock::time_point last_answer = Clock::now();
};

double percentile(std::vector<double> values, double q) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<std::size_t>(q * static_cast<double>(values.size())))];
}

}  // namespace

nlohmann::ordered_json SimulatorReport::to_json() const {
  return {{"sent", sent},
          {"refused", refused},
          {"scored", scored},
          {"errors", errors},
          {"lost", lost},
          {"duplicates", duplicates},
          {"resent", resent},
          {"seconds", seconds},
          {"publish_seconds", publish_seconds},
          {"throughput", throughput},
          {"latency_p50_ms", latency_p50_ms},
          {"latency_p99_ms", latency_p99_ms},
          {"latency_max_ms", latency_max_ms}};
}

std::string simulated_machine_name(const std::string& prefix, int index, int machines) {
  const std::size_t width = std::to_string(std::max(0, machines - 1)).size();
  std::string number = std::to_string(index);
  if (number.size() < width) number.insert(0, width - number.size(), '0');
  return prefix + number;
}

SimulatorReport run_fleet_simulation(const SimulatorConfig& config, const std::vector<std::vector<std::uint8_t>>& clips,
                                     const std::function<void(const std::string&, const std::string&)>& on_answer,
                                     const std::function<void(long)>& progress) {
  if (clips.empty()) throw std::invalid_argument("no clips to publish");
  if (config.machines < 1) throw std::invalid_argument("--machines must be at least 1");
  const long total = config.clips > 0 ? config.clips : config.machines;
  const std::string run = !config.run_id.empty()
                              ? config.run_id
                              : std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
  Answers answers;
  const auto on_message = [&](const MqttMessage& m) {
    const bool is_error = m.topic.size() >= 6 && m.topic.compare(m.topic.size() - 6, 6, "/error") == 0;
    const std::string text(reinterpret_cast<const char*>(m.payload), m.size);
    std::string clip_id;
    try {
      clip_id = nlohmann::json::parse(text).value("clip_id", "");
    } catch (const std::exception&) {
    }
    if (on_answer) on_answer(m.topic, text);
    std::lock_guard<std::mutex> lock(answers.mutex);
    const auto sent = answers.sent_at.find(clip_id);
    if (sent == answers.sent_at.end()) return;  // not ours (another run, or a bad id)
    if (answers.answers[clip_id]++ > 0) {
      answers.duplicates++;
    } else {
      answers.latencies_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - sent->second).count());
      (is_error ? answers.errors : answers.scored)++;
    }
    answers.last_answer = Clock::now();
    answers.changed.notify_all();
  };
  MqttSettings settings = config.connection;
  settings.subscriptions = {std::string(kTopicRoot) + "+/score", std::string(kTopicRoot) + "+/error"};
  MqttClient client(settings, on_message);
  client.start();
  if (!client.wait_connected(10.0)) {
    const std::string why = client.connect_error();
    throw std::runtime_error("cannot connect to " + settings.broker.host + ":" + std::to_string(settings.broker.port) +
                             (why.empty() ? " within 10 s" : ": " + why));
  }
  for (const std::string& filter : settings.subscriptions) {
    const int granted = client.subscribe_once(filter, 10.0);
    if (granted < 0 || granted >= 0x80) throw std::runtime_error("the broker refused the subscription to " + filter);
  }
  SimulatorReport report;
  const Clock::time_point start = Clock::now();
  Clock::time_point next = start;
  const auto interval =
      config.rate > 0 ? std::chrono::duration<double>(1.0 / config.rate) : std::chrono::duration<double>(0);
  const std::string captured_at = utc_now_iso8601();
  std::map<int, long> in_flight;                          // mid → clip index, until its PUBACK
  std::vector<std::pair<Clock::time_point, long>> again;  // clips to publish again, and when
  const auto publish_clip = [&](long i) {
    const int machine_index = static_cast<int>(i % config.machines);
    const std::string machine = simulated_machine_name(config.machine_prefix, machine_index, config.machines);
    const std::string clip_id = run + "-" + machine + "-" + std::to_string(i / config.machines);
    UserProperties props = {{"clip_id", clip_id}, {"captured_at", captured_at}};
    if (!config.machine_id.empty()) props.emplace_back("machine_id", config.machine_id);
    const std::vector<std::uint8_t>& clip = clips[static_cast<std::size_t>(i) % clips.size()];
    {
      std::lock_guard<std::mutex> lock(answers.mutex);
      answers.sent_at.emplace(clip_id, Clock::now());  // a resend keeps the first time
    }
    try {
      in_flight[client.publish(machine_topic(machine, "clip"), clip.data(), clip.size(), props)] = i;
      return true;
    } catch (const std::exception&) {
      std::lock_guard<std::mutex> lock(answers.mutex);
      answers.sent_at.erase(clip_id);
      return false;  // e.g. over the broker's maximum packet size
    }
  };
  // PUBACKs so far: 0x10 means nobody was subscribed, so the clip is kept for later.
  const auto collect_acknowledgements = [&] {
    for (const auto& [mid, reason] : client.take_acknowledged()) {
      const auto it = in_flight.find(mid);
      if (it == in_flight.end()) continue;
      if (reason == 0x10) {
        again.emplace_back(Clock::now() + std::chrono::milliseconds(500), it->second);
      } else if (reason >= 0x80) {
        report.refused++;
        report.sent--;
      }
      in_flight.erase(it);
    }
    const Clock::time_point now = Clock::now();
    for (std::size_t k = 0; k < again.size();) {
      if (again[k].first > now) {
        ++k;
        continue;
      }
      publish_clip(again[k].second);
      report.resent++;
      again[k] = again.back();
      again.pop_back();
    }
  };
  for (long i = 0; i < total; ++i) {
    if (config.rate > 0) std::this_thread::sleep_until(next);
    next += std::chrono::duration_cast<Clock::duration>(interval);
    if (publish_clip(i)) {
      report.sent++;
    } else {
      report.refused++;
    }
    if (i % 64 == 0) collect_acknowledgements();
    if (progress) progress(i + 1);
  }
  report.publish_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  {
    std::lock_guard<std::mutex> lock(answers.mutex);
    answers.last_answer = Clock::now();
  }
  const auto idle =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(config.idle_timeout_seconds));
  while (true) {
    collect_acknowledgements();
    {
      std::lock_guard<std::mutex> lock(answers.mutex);
      if (answers.scored + answers.errors >= report.sent) break;
      if (Clock::now() >= answers.last_answer + idle) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::unique_lock<std::mutex> lock(answers.mutex);
  // A moment for late duplicates of what was just answered, then count.
  lock.unlock();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  lock.lock();
  report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  report.scored = answers.scored;
  report.errors = answers.errors;
  report.duplicates = answers.duplicates;
  report.lost = report.sent - answers.scored - answers.errors;
  report.throughput = report.seconds > 0 ? static_cast<double>(answers.scored + answers.errors) / report.seconds : 0.0;
  report.latency_p50_ms = percentile(answers.latencies_ms, 0.5);
  report.latency_p99_ms = percentile(answers.latencies_ms, 0.99);
  report.latency_max_ms = percentile(answers.latencies_ms, 1.0);
  lock.unlock();
  client.disconnect();
  return report;
}

}  // namespace micronet_ad::host::fleet
