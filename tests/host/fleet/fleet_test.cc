// The fleet over MQTT (docs/fleet.md), end to end on a private Mosquitto broker (test_broker.h: TLS,
// passwords, ACL, persistence) with `micronet-ad worker` and `micronet-ad publish` as real
// processes: every clip scored exactly once and equal to `score` on the same files, 0 lost when a
// worker is killed with -9 and restarted or when the broker restarts, bad payloads answered on
// the error topic with the worker alive, ACL refusals, retained status and a clean SIGTERM.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/audio/audio_file.h"
#include "host/fleet/clip_handler.h"
#include "host/fleet/mqtt_client.h"
#include "host/fleet/simulator.h"
#include "host/fleet/test_broker.h"
#include "host/fleet/topics.h"
#include "host/io/shared_data.h"
#include "support/cli.h"

namespace micronet_ad::test {
namespace {

using nlohmann::json;
namespace fleet = host::fleet;

constexpr int kClipFiles = 5;
constexpr double kClipSeconds = 2.0;
// Under AddressSanitizer scoring is ~10x slower: the same runs with fewer clips (CI budget); the
// Release build runs them whole.
#ifdef __SANITIZE_ADDRESS__
constexpr long kWorkloadPercent = 10;
#else
constexpr long kWorkloadPercent = 100;
#endif
constexpr long scaled(long clips) { return clips * kWorkloadPercent / 100; }

// A 16 kHz mono 16-bit PCM WAV of `samples` (int16 scale).
void write_pcm16_wav(const std::string& path, const float* samples, std::size_t count) {
  std::ofstream out(path, std::ios::binary);
  const auto u32 = [&](std::uint32_t v) { out.write(reinterpret_cast<const char*>(&v), 4); };
  const auto u16 = [&](std::uint16_t v) { out.write(reinterpret_cast<const char*>(&v), 2); };
  const std::uint32_t data = static_cast<std::uint32_t>(count * 2);
  out.write("RIFF", 4);
  u32(36 + data);
  out.write("WAVEfmt ", 8);
  u32(16);
  u16(1);
  u16(1);
  u32(16000);
  u32(32000);
  u16(2);
  u16(16);
  out.write("data", 4);
  u32(data);
  for (std::size_t i = 0; i < count; ++i) {
    const float s = std::max(-32768.0f, std::min(32767.0f, samples[i]));
    u16(static_cast<std::uint16_t>(static_cast<std::int16_t>(s)));
  }
}

std::vector<json> read_answers(const std::string& path) {
  std::vector<json> answers;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) answers.push_back(json::parse(line));
  return answers;
}

class FleetTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(temp_dir() + "/fleet");
    broker_ = new TestBroker(*dir_ + "/broker");
    // Five different 2 s clips cut from a shared slider recording, and what `score` says of them.
    const host::Audio audio =
        host::load_audio(host::shared_path("data/dcase2020_task2/slider/test/normal_id_00_00000000.wav"));
    const std::size_t n = static_cast<std::size_t>(kClipSeconds * 16000);
    ASSERT_GE(audio.samples.size(), n * kClipFiles);
    clips_ = new std::vector<std::string>();
    expected_ = new std::vector<json>();
    std::string files;
    for (int k = 0; k < kClipFiles; ++k) {
      clips_->push_back(*dir_ + "/clip" + std::to_string(k) + ".wav");
      write_pcm16_wav(clips_->back(), audio.samples.data() + k * n, n);
      files += " " + clips_->back();
    }
    const CliResult scored = run_cli("score --format json --machine-id 00" + files);
    ASSERT_EQ(scored.exit_code, 0) << scored.err;
    const json report = json::parse(scored.out);
    for (const json& clip : report["clips"]) expected_->push_back(clip);
    ASSERT_EQ(expected_->size(), static_cast<std::size_t>(kClipFiles));
  }
  static void TearDownTestSuite() {
    delete broker_;
    delete clips_;
    delete expected_;
    delete dir_;
  }

  static std::vector<std::string> cli(const std::string& command, const std::string& user) {
    std::vector<std::string> argv = {cli_path(), command};
    for (const std::string& o : broker_->client_options(user)) argv.push_back(o);
    return argv;
  }

  // `micronet-ad worker --id ID --group GROUP --threads 1 extra...`, once it has joined.
  static ChildProcess start_worker(const std::string& id, const std::string& group, std::vector<std::string> extra = {},
                                   int sessions = 1) {
    std::vector<std::string> argv = cli("worker", "worker");
    for (const std::string& a : {std::string("--id"), id, std::string("--group"), group, std::string("--threads"),
                                 std::to_string(sessions), std::string("--status-interval"), std::string("0.5")})
      argv.push_back(a);
    argv.insert(argv.end(), extra.begin(), extra.end());
    const std::string out = *dir_ + "/" + id + ".out";
    ChildProcess p(argv, out, *dir_ + "/" + id + ".err");
    EXPECT_TRUE(wait_for_text(out, "joined", 20.0)) << read_text(*dir_ + "/" + id + ".err");
    return p;
  }

  // `micronet-ad publish` in the background; its report is the JSON line of <run>.out.
  static ChildProcess start_publish(const std::string& run, int machines, long clips, double rate) {
    std::vector<std::string> argv = cli("publish", "fleet-sim");
    for (const std::string& a :
         {std::string("--run-id"), run, std::string("--machines"), std::to_string(machines), std::string("--clips"),
          std::to_string(clips), std::string("--rate"), std::to_string(rate), std::string("--machine-id"),
          std::string("00"), std::string("--idle-timeout"), std::string("20"), std::string("--answers"),
          *dir_ + "/" + run + ".answers"})
      argv.push_back(a);
    argv.insert(argv.end(), clips_->begin(), clips_->end());
    return ChildProcess(argv, *dir_ + "/" + run + ".out", *dir_ + "/" + run + ".err");
  }

  static json finish_publish(ChildProcess& publish, const std::string& run, double seconds) {
    const int code = publish.wait(seconds);
    EXPECT_GE(code, 0) << "publish still running after " << seconds << " s";
    const std::string out = read_text(*dir_ + "/" + run + ".out");
    if (out.empty()) {
      ADD_FAILURE() << "publish printed no report: " << read_text(*dir_ + "/" + run + ".err");
      return json::object();
    }
    return json::parse(out);
  }

  // Checks every answer of `run` against `score`: clip i of machine m is clip file (seq*machines+m) % 5.
  static std::map<std::string, int> check_scores(const std::string& run, int machines, long clips) {
    std::map<std::string, int> by_worker;
    std::set<std::string> seen;
    for (const json& a : read_answers(*dir_ + "/" + run + ".answers")) {
      const json& m = a["message"];
      EXPECT_TRUE(a["topic"].get<std::string>().find("/score") != std::string::npos) << a.dump();
      const std::string id = m.value("clip_id", "");
      if (!seen.insert(id).second) continue;  // a duplicate: the report counts them
      // "<run>-m<index>-<seq>"
      const std::size_t dash = id.rfind('-');
      const std::size_t mdash = id.rfind('-', dash - 1);
      const long seq = std::stol(id.substr(dash + 1));
      const long machine = std::stol(id.substr(mdash + 2, dash - mdash - 2));
      const json& expected = (*expected_)[static_cast<std::size_t>((seq * machines + machine) % kClipFiles)];
      EXPECT_EQ(m["score"].get<double>(), expected["score"].get<double>()) << id;
      EXPECT_EQ(m["nll"].get<double>(), expected["nll"].get<double>()) << id;
      EXPECT_EQ(m["windows"], expected["windows"]) << id;
      EXPECT_EQ(m["window_scores"], expected["window_scores"]) << id;
      EXPECT_EQ(m["machine"], fleet::simulated_machine_name("m", static_cast<int>(machine), machines)) << id;
      by_worker[m.value("worker", "")]++;
    }
    EXPECT_EQ(static_cast<long>(seen.size()), clips) << "distinct clips answered";
    return by_worker;
  }

  static fleet::MqttSettings settings(const std::string& user, const std::string& client_id) {
    fleet::MqttSettings s;
    s.broker = fleet::parse_broker_address(broker_->url());
    s.client_id = client_id;
    s.clean_start = true;
    s.username = user;
    s.password = TestBroker::kPassword;
    s.ca_file = broker_->dir() + "/ca.crt";
    s.cert_file = broker_->dir() + "/client.crt";
    s.key_file = broker_->dir() + "/client.key";
    return s;
  }

  static std::string* dir_;
  static TestBroker* broker_;
  static std::vector<std::string>* clips_;
  static std::vector<json>* expected_;
};

std::string* FleetTest::dir_ = nullptr;
TestBroker* FleetTest::broker_ = nullptr;
std::vector<std::string>* FleetTest::clips_ = nullptr;
std::vector<json>* FleetTest::expected_ = nullptr;

TEST(FleetTopics, ParsesTopicsAddressesAndMachines) {
  EXPECT_EQ(fleet::clip_topic_machine("micronet-ad/v1/pump7/clip").value_or("?"), "pump7");
  EXPECT_FALSE(fleet::clip_topic_machine("micronet-ad/v1/a/b/clip"));
  EXPECT_FALSE(fleet::clip_topic_machine("micronet-ad/v1//clip"));
  EXPECT_FALSE(fleet::clip_topic_machine("micronet-ad/v1/pump7/score"));
  EXPECT_FALSE(fleet::valid_machine_name("a+b"));
  EXPECT_FALSE(fleet::valid_machine_name(std::string(65, 'a')));
  EXPECT_TRUE(fleet::valid_machine_name("slider_id_00"));
  EXPECT_EQ(fleet::shared_clip_subscription("g"), "$share/g/micronet-ad/v1/+/clip");
  const fleet::BrokerAddress a = fleet::parse_broker_address("mqtts://[::1]:8884");
  EXPECT_EQ(a.host, "::1");
  EXPECT_EQ(a.port, 8884);
  EXPECT_TRUE(a.tls);
  EXPECT_EQ(fleet::parse_broker_address("mqtt://broker").port, 1883);
  EXPECT_THROW(fleet::parse_broker_address("http://x:1"), std::invalid_argument);
  EXPECT_THROW(fleet::parse_broker_address("mqtt://x:99999"), std::invalid_argument);
  EXPECT_EQ(fleet::machine_output_index("m1", "02"), 1);
  EXPECT_EQ(fleet::machine_output_index("slider_id_04", ""), 2);
  EXPECT_EQ(fleet::machine_output_index("06", ""), 3);
  EXPECT_EQ(fleet::machine_output_index("m1", ""), -1);
  EXPECT_EQ(fleet::machine_output_index("m1", "01"), -1);
  EXPECT_EQ(fleet::machine_output_index("pump12", ""), -1);
}

// 1,000 machines × 5 clips through one worker, then through two: each clip answered exactly once,
// with the score `score` gives the same file.
TEST_F(FleetTest, ThousandMachinesThroughOneThenTwoWorkers) {
  constexpr int kMachines = 1000;
  constexpr long kClips = scaled(5000);
  ChildProcess w1 = start_worker("scale-w1", "scale");
  ChildProcess one = start_publish("one", kMachines, kClips, 0);
  const json r1 = finish_publish(one, "one", 150);
  EXPECT_EQ(r1["sent"], kClips);
  EXPECT_EQ(r1["scored"], kClips);
  EXPECT_EQ(r1["lost"], 0);
  EXPECT_EQ(r1["duplicates"], 0);
  EXPECT_EQ(check_scores("one", kMachines, kClips).size(), 1u);

  ChildProcess w2 = start_worker("scale-w2", "scale");
  ChildProcess two = start_publish("two", kMachines, kClips, 0);
  const json r2 = finish_publish(two, "two", 150);
  EXPECT_EQ(r2["scored"], kClips);
  EXPECT_EQ(r2["lost"], 0);
  EXPECT_EQ(r2["duplicates"], 0);
  const std::map<std::string, int> by_worker = check_scores("two", kMachines, kClips);
  ASSERT_EQ(by_worker.size(), 2u) << "both workers take a share";
  EXPECT_GT(by_worker.at("scale-w1"), kClips / 4);
  EXPECT_GT(by_worker.at("scale-w2"), kClips / 4);
  std::printf("1 worker: %s\n2 workers: %s\n", r1.dump().c_str(), r2.dump().c_str());
}

// A worker killed with -9 in the middle of a run and restarted under the same id: its session
// gets back the clip it had in hand (unacknowledged) and those queued for it.
TEST_F(FleetTest, WorkerKilledAndRestartedLosesNothing) {
  ChildProcess w1 = start_worker("kill-w1", "kill");
  ChildProcess w2 = start_worker("kill-w2", "kill");
  constexpr long kClips = scaled(1200);
  ChildProcess publish = start_publish("kill", 200, kClips, 400);
  ASSERT_TRUE(wait_for_text(*dir_ + "/kill.answers", "kill-w1", 20.0));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  w1.signal(SIGKILL);
  EXPECT_EQ(w1.wait(5.0), 128 + SIGKILL);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  w1 = start_worker("kill-w1", "kill");
  const json r = finish_publish(publish, "kill", 90);
  EXPECT_EQ(r["sent"], kClips);
  EXPECT_EQ(r["lost"], 0) << r.dump();
  check_scores("kill", 200, kClips);
  std::printf("kill -9: %s\n", r.dump().c_str());
}

// The broker stopped and started again mid-run (persistence on): workers and the simulator
// reconnect with back-off, sessions and queued clips survive, nothing is lost.
TEST_F(FleetTest, BrokerRestartLosesNothing) {
  ChildProcess w1 = start_worker("restart-w1", "restart");
  constexpr long kClips = scaled(600);
  ChildProcess publish = start_publish("restart", 100, kClips, 200);
  ASSERT_TRUE(wait_for_text(*dir_ + "/restart.answers", "restart-w1", 20.0));
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  broker_->stop();
  ASSERT_FALSE(broker_->running());
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  broker_->start();
  const json r = finish_publish(publish, "restart", 90);
  EXPECT_EQ(r["sent"], kClips);
  EXPECT_EQ(r["lost"], 0) << r.dump();
  check_scores("restart", 100, kClips);
  EXPECT_TRUE(w1.running()) << "the worker reconnects instead of exiting";
  std::printf("broker restart: %s\n", r.dump().c_str());
}

// Bad payloads get an error message on the machine's error topic and the worker scores on.
TEST_F(FleetTest, BadPayloadsGoToTheErrorTopicAndTheWorkerLivesOn) {
  ChildProcess worker = start_worker("bad-w1", "bad", {"--max-payload-mb", "1"});
  std::mutex mutex;
  std::map<std::string, json> answers;  // clip_id → message
  fleet::MqttClient client(settings("fleet-sim", "bad-sim"), [&](const fleet::MqttMessage& m) {
    json j = json::parse(std::string(reinterpret_cast<const char*>(m.payload), m.size));
    j["topic"] = m.topic;
    std::lock_guard<std::mutex> lock(mutex);
    answers[j.value("clip_id", "")] = j;
  });
  client.start();
  ASSERT_TRUE(client.wait_connected(10.0)) << client.connect_error();
  ASSERT_EQ(client.subscribe_once("micronet-ad/v1/+/error", 10.0), 1);
  ASSERT_EQ(client.subscribe_once("micronet-ad/v1/+/score", 10.0), 1);

  std::vector<std::uint8_t> random_bytes(5000);
  std::uint32_t x = 12345;
  for (auto& b : random_bytes) b = static_cast<std::uint8_t>((x = x * 1103515245u + 12345u) >> 24);
  const std::string wav = read_text(clips_->at(0));
  const std::vector<std::uint8_t> good(wav.begin(), wav.end());
  const std::vector<std::uint8_t> truncated(wav.begin(), wav.begin() + static_cast<long>(wav.size() / 2));
  const std::vector<std::uint8_t> over_worker_limit(std::size_t(2) << 20, 0);
  const std::vector<std::uint8_t> over_broker_limit(std::size_t(100) << 20, 0);
  struct Case {
    std::string id, machine;
    const std::vector<std::uint8_t>* bytes;
    std::string machine_id, kind;
  };
  const std::vector<std::uint8_t> empty;
  const std::vector<Case> cases = {
      {"random", "m1", &random_bytes, "00", "not_audio"},       {"empty", "m1", &empty, "00", "empty"},
      {"truncated", "m1", &truncated, "00", "truncated_audio"}, {"big", "m1", &over_worker_limit, "00", "too_large"},
      {"unknown", "pump12", &good, "", "unknown_machine"},      {"good", "m1", &good, "00", ""}};
  for (const Case& c : cases) {
    fleet::UserProperties props = {{"clip_id", c.id}};
    if (!c.machine_id.empty()) props.emplace_back("machine_id", c.machine_id);
    const int mid = client.publish(fleet::machine_topic(c.machine, "clip"), c.bytes->data(), c.bytes->size(), props);
    EXPECT_EQ(client.wait_published(mid, 10.0), 0) << c.id;
  }
  // Over the broker's 8 MiB maximum packet size (advertised in CONNACK): refused before sending.
  try {
    client.publish(fleet::machine_topic("m1", "clip"), over_broker_limit.data(), over_broker_limit.size(),
                   {{"clip_id", "huge"}});
    ADD_FAILURE() << "a 100 MB payload was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(fleet::MqttClient::kOversize), std::string::npos) << e.what();
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (answers.size() >= cases.size()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::lock_guard<std::mutex> lock(mutex);
  for (const Case& c : cases) {
    ASSERT_TRUE(answers.count(c.id)) << c.id << " got no answer";
    const json& a = answers[c.id];
    if (c.kind.empty()) {
      EXPECT_EQ(a["topic"], "micronet-ad/v1/m1/score");
      EXPECT_EQ(a["score"].get<double>(), (*expected_)[0]["score"].get<double>());
    } else {
      EXPECT_EQ(a["topic"], fleet::machine_topic(c.machine, "error")) << c.id;
      EXPECT_EQ(a["kind"], c.kind) << a.dump();
      EXPECT_FALSE(a["error"].get<std::string>().empty());
      EXPECT_EQ(a["worker"], "bad-w1");
    }
  }
  EXPECT_TRUE(worker.running());
  EXPECT_FALSE(answers.count("huge"));
}

// Sensors publish only to their own clip topic and subscribe only to their own results; wrong
// passwords are refused. The broker's dynamic-security plugin refuses a SUBSCRIBE to "#" or to
// another machine's topics at SUBACK (an acl_file would grant it and deliver nothing): checked
// both ways, refused and nothing but m1's own results reaching m1.
TEST_F(FleetTest, AclRefusesOtherMachinesTopicsAndWildcards) {
  ChildProcess worker = start_worker("acl-w1", "acl");
  std::mutex mutex;
  std::vector<std::string> topics;     // what m1 received
  std::vector<std::string> m2_topics;  // what m2 received
  fleet::MqttClient m1(settings("m1", "acl-m1"), [&](const fleet::MqttMessage& m) {
    std::lock_guard<std::mutex> lock(mutex);
    topics.push_back(m.topic);
  });
  m1.start();
  ASSERT_TRUE(m1.wait_connected(10.0)) << m1.connect_error();
  for (const char* filter : {"#", "micronet-ad/#", "micronet-ad/v1/+/score", "micronet-ad/v1/m2/score"})
    EXPECT_EQ(m1.subscribe_once(filter, 10.0), 0x87) << "m1 subscribing to " << filter << ": not authorized";
  EXPECT_EQ(m1.subscribe_once("micronet-ad/v1/m1/score", 10.0), 1) << "m1 subscribing to its own score: QoS 1";
  const std::string clip = read_text(clips_->at(0));
  const int other = m1.publish(fleet::machine_topic("m2", "clip"), clip.data(), clip.size(),
                               {{"clip_id", "acl-other"}, {"machine_id", "00"}});
  EXPECT_EQ(m1.wait_published(other, 10.0), 0x87) << "publishing to another machine's clip topic: not authorized";
  // m2 publishes its own clip and waits for its score; m1 publishes its own: only m1's results may
  // reach m1.
  fleet::MqttClient m2(settings("m2", "acl-m2"), [&](const fleet::MqttMessage& m) {
    std::lock_guard<std::mutex> lock(mutex);
    m2_topics.push_back(m.topic);
  });
  m2.start();
  ASSERT_TRUE(m2.wait_connected(10.0)) << m2.connect_error();
  ASSERT_EQ(m2.subscribe_once("micronet-ad/v1/m2/score", 10.0), 1);
  const int m2_clip = m2.publish(fleet::machine_topic("m2", "clip"), clip.data(), clip.size(),
                                 {{"clip_id", "acl-m2"}, {"machine_id", "00"}});
  EXPECT_EQ(m2.wait_published(m2_clip, 10.0), 0);
  const int own = m1.publish(fleet::machine_topic("m1", "clip"), clip.data(), clip.size(),
                             {{"clip_id", "acl-m1"}, {"machine_id", "00"}});
  EXPECT_EQ(m1.wait_published(own, 10.0), 0);
  const auto got = [&](const std::vector<std::string>& received, const std::string& topic) {
    std::lock_guard<std::mutex> lock(mutex);
    return std::count(received.begin(), received.end(), topic) > 0;
  };
  for (int i = 0; i < 500 && !(got(topics, "micronet-ad/v1/m1/score") && got(m2_topics, "micronet-ad/v1/m2/score"));
       ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_TRUE(got(m2_topics, "micronet-ad/v1/m2/score"));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // m2's results would have reached m1 by now too
  EXPECT_TRUE(got(topics, "micronet-ad/v1/m1/score"));
  {
    std::lock_guard<std::mutex> lock(mutex);
    for (const std::string& topic : topics)
      EXPECT_EQ(topic.rfind("micronet-ad/v1/m1/", 0), 0u) << "m1 received " << topic;
  }

  fleet::MqttSettings wrong = settings("m1", "acl-wrong");
  wrong.password = "not-the-password";
  fleet::MqttClient intruder(wrong);
  intruder.start();
  EXPECT_FALSE(intruder.wait_connected(2.0));
  EXPECT_FALSE(intruder.connect_error().empty());
}

// The retained status says alive with counters; SIGTERM finishes, exits 0 and leaves alive=false.
TEST_F(FleetTest, StatusTopicAndCleanShutdown) {
  ChildProcess worker = start_worker("status-w1", "status");
  ChildProcess publish = start_publish("status", 10, 20, 0);
  const json r = finish_publish(publish, "status", 60);
  EXPECT_EQ(r["scored"], 20);
  std::mutex mutex;
  json status;
  fleet::MqttClient client(settings("fleet-sim", "status-sim"), [&](const fleet::MqttMessage& m) {
    std::lock_guard<std::mutex> lock(mutex);
    status = json::parse(std::string(reinterpret_cast<const char*>(m.payload), m.size));
  });
  client.start();
  ASSERT_TRUE(client.wait_connected(10.0));
  ASSERT_EQ(client.subscribe_once(fleet::worker_status_topic("status-w1"), 10.0), 1);
  const auto scored_20 = [&] {
    std::lock_guard<std::mutex> lock(mutex);
    return status.is_object() && status.value("clips_scored", 0) == 20 && status.value("alive", false);
  };
  for (int i = 0; i < 200 && !scored_20(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_TRUE(scored_20()) << status.dump();
  worker.signal(SIGTERM);
  EXPECT_EQ(worker.wait(10.0), 0);
  for (int i = 0; i < 100; ++i) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (!status.value("alive", true)) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::lock_guard<std::mutex> lock(mutex);
  EXPECT_FALSE(status.value("alive", true)) << status.dump();
  EXPECT_EQ(status.value("clips_scored", 0), 20);
}

}  // namespace
}  // namespace micronet_ad::test
