// `micronet-ad serve` as a real process on loopback: answers for real clips equal `score`'s,
// bad requests get 4xx JSON errors, concurrent clients are all answered correctly, /metrics
// counts what happened, a full queue answers 503, a stalled client holds no worker and gets a
// 408, and SIGTERM finishes the request in flight. http_server_test.cc: the HTTP layer under abuse.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/serve/serve_support.h"
#include "support/cli.h"
#include "support/test_data.h"

namespace micronet_ad {
namespace {

using nlohmann::json;
using test::error_json;
using test::file_bytes;
using test::make_wav;
using test::metric;
using test::Server;

std::string slider(const std::string& name) { return host::shared_path("data/dcase2020_task2/slider/" + name); }

// `score --format json` for one clip: the reference answer.
json score_clip(const std::string& path, const std::string& machine_id = "00") {
  const test::CliResult r = test::run_cli("score --format json --machine-id " + machine_id + " " + path);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return json::parse(r.out)["clips"][0];
}

httplib::Result post_score(httplib::Client& c, const std::string& body, const std::string& query = "machine_id=00") {
  return c.Post(("/v1/score?" + query).c_str(), body, "audio/wav");
}

// The clip JSON `score` prints for the same audio (every field but the path).
void expect_same_clip(const json& got, const json& want) {
  for (const auto& [key, value] : want.items()) {
    if (key == "path") continue;
    EXPECT_EQ(got[key], value) << key;
  }
}

// Sends raw bytes on a fresh connection, half-closes, returns everything answered.
std::string raw_exchange(int port, const std::string& bytes, bool half_close = true) {
  const int s = test::connect_loopback(port);
  if (s < 0) return "connect failed";
  ::send(s, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  if (half_close) ::shutdown(s, SHUT_WR);
  std::string answer;
  char buf[4096];
  for (ssize_t n; (n = ::recv(s, buf, sizeof buf, 0)) > 0;) answer.append(buf, static_cast<std::size_t>(n));
  ::close(s);
  return answer;
}

class ServeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new Server({"--workers", "2", "--max-body-mb", "1", "--max-seconds", "12"});
  }
  static void TearDownTestSuite() {
    EXPECT_EQ(server_->stop(), 0) << server_->stderr_text();
    delete server_;
    server_ = nullptr;
  }
  static Server* server_;
};
Server* ServeTest::server_ = nullptr;

TEST_F(ServeTest, RealClipsGetTheScoreCommandsJson) {
  auto c = server_->client();
  for (const char* name : {"test/normal_id_00_00000000.wav", "test/anomaly_id_00_00000000.wav"}) {
    const std::string path = slider(name);
    const auto r = post_score(*c, file_bytes(path), "machine_id=00&name=clip.wav");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
    const json got = json::parse(r->body);
    expect_same_clip(got, score_clip(path));
    EXPECT_EQ(got["path"], "clip.wav");
    EXPECT_DOUBLE_EQ(got["seconds"].get<double>(), 10.0);
  }
  // Another machine ID scores the same audio against another output.
  const auto r = post_score(*c, file_bytes(slider("test/normal_id_00_00000000.wav")), "machine_id=id_04");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  expect_same_clip(json::parse(r->body), score_clip(slider("test/normal_id_00_00000000.wav"), "04"));
}

TEST_F(ServeTest, ModelHealthAndUnknownPaths) {
  auto c = server_->client();
  const auto model = c->Get("/v1/model");
  ASSERT_TRUE(model);
  ASSERT_EQ(model->status, 200);
  const json got = json::parse(model->body);
  const test::CliResult inspect = test::run_cli("inspect --json");
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  const json want = json::parse(inspect.out);
  for (const auto& [key, value] : want.items()) EXPECT_EQ(got[key], value) << key;
  EXPECT_EQ(got["sha1"], "c54a0f0ddac24f2e62b48f26d8bee664d58c49b8");  // the ad_medium file
  const auto health = c->Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(json::parse(health->body)["status"], "ok");
  error_json(c->Get("/v1/nothing"), 404, "not_found");
  error_json(c->Get("/v1/score"), 404, "not_found");  // scoring is POST only
}

TEST_F(ServeTest, BadRequestsGet4xxJsonErrors) {
  auto c = server_->client();
  const std::string clip = file_bytes(slider("test/normal_id_00_00000000.wav"));
  error_json(post_score(*c, ""), 400, "empty_body");
  std::mt19937 rng(7);
  std::string garbage(50000, '\0');
  for (char& ch : garbage) ch = static_cast<char>(rng());
  error_json(post_score(*c, garbage), 415, "not_audio");
  error_json(post_score(*c, std::string("RIFF\x10\0\0\0WAVEfmt ", 16)), 415, "not_audio");
  error_json(post_score(*c, clip.substr(0, 1000)), 400, "truncated_audio");
  error_json(post_score(*c, std::string(2 << 20, 'x')), 413, "body_too_large");
  error_json(post_score(*c, file_bytes(make_wav(slider("test/normal_id_00_00000000.wav"), 15.0, "long.wav"))), 413,
             "too_long");
  error_json(post_score(*c, clip, "machine_id=07"), 400, "unknown_machine_id");
  error_json(post_score(*c, clip, "machine_id="), 400, "unknown_machine_id");
  error_json(post_score(*c, clip, ""), 400, "missing_machine_id");
  // A client that half-closes in the middle of its body is told so; an answer to a stalled body
  // is tested in ServeLimits.
  const std::string cut =
      raw_exchange(server_->port(), "POST /v1/score?machine_id=00 HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" +
                                        clip.substr(0, 100));
  EXPECT_NE(cut.find("HTTP/1.1 400"), std::string::npos) << cut;
  EXPECT_NE(cut.find("\"kind\":\"bad_request\""), std::string::npos) << cut;
  // Not HTTP at all.
  const std::string answer = raw_exchange(server_->port(), "\x16\x03\x01 hello garbage\r\n\r\n", false);
  EXPECT_NE(answer.find("HTTP/1.1 400"), std::string::npos) << answer;
  EXPECT_NE(answer.find("\"kind\":\"bad_request\""), std::string::npos) << answer;
  // The server is still fine.
  const auto health = c->Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

TEST_F(ServeTest, ConcurrentClientsMixingGoodAndBadRequestsAreAllAnsweredAndCounted) {
  const std::string a_path = make_wav(slider("test/normal_id_00_00000000.wav"), 3.0, "a3.wav");
  const std::string b_path = make_wav(slider("test/anomaly_id_00_00000000.wav"), 2.5, "b25.wav");
  const json a_want = score_clip(a_path), b_want = score_clip(b_path);
  const std::string a = file_bytes(a_path), b = file_bytes(b_path);
  auto c = server_->client();
  const auto before = c->Get("/metrics");
  ASSERT_TRUE(before);

  constexpr int kThreads = 8, kRequests = 50;
  // Request i of a thread: 0,1 good clips; 2 garbage; 3 unknown ID; 4 truncated; 5 health.
  std::atomic<int> wrong{0};
  std::mutex log_mutex;
  std::string log;
  auto fail = [&](const std::string& what) {
    ++wrong;
    std::lock_guard<std::mutex> lock(log_mutex);
    if (log.size() < 4000) log += what + "\n";
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto client = server_->client();
      for (int i = 0; i < kRequests; ++i) {
        const int kind = (i + t) % 6;
        httplib::Result r = kind == 0   ? post_score(*client, a)
                            : kind == 1 ? post_score(*client, b)
                            : kind == 2 ? post_score(*client, "definitely not audio")
                            : kind == 3 ? post_score(*client, a, "machine_id=99")
                            : kind == 4 ? post_score(*client, b.substr(0, b.size() / 2))
                                        : client->Get("/healthz");
        if (!r) {
          fail("no answer (" + httplib::to_string(r.error()) + ")");
          continue;
        }
        const int want_status[] = {200, 200, 415, 400, 400, 200};
        if (r->status != want_status[kind]) {
          fail("kind " + std::to_string(kind) + ": status " + std::to_string(r->status) + " " + r->body);
          continue;
        }
        if (kind <= 1) {
          const json got = json::parse(r->body);
          const json& want = kind == 0 ? a_want : b_want;
          if (got["window_scores"] != want["window_scores"] || got["score"] != want["score"]) {
            fail("kind " + std::to_string(kind) + ": wrong scores " + r->body);
          }
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0) << log;

  const auto after = c->Get("/metrics");
  ASSERT_TRUE(after);
  const std::string& m0 = before->body;
  const std::string& m1 = after->body;
  auto delta = [&](const std::string& series) { return metric(m1, series) - metric(m0, series); };
  EXPECT_DOUBLE_EQ(delta("micronet_ad_clips_scored_total"),
                   delta("micronet_ad_http_requests_total{endpoint=\"/v1/score\",code=\"200\"}"));
  const double windows = a_want["windows"].get<double>(), windows_b = b_want["windows"].get<double>();
  // Threads start at different kinds; count exactly how many of each were sent.
  int sent[6] = {};
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kRequests; ++i) ++sent[(i + t) % 6];
  }
  EXPECT_DOUBLE_EQ(delta("micronet_ad_http_requests_total{endpoint=\"/v1/score\",code=\"200\"}"), sent[0] + sent[1]);
  EXPECT_DOUBLE_EQ(delta("micronet_ad_windows_scored_total"), sent[0] * windows + sent[1] * windows_b);
  EXPECT_DOUBLE_EQ(delta("micronet_ad_http_requests_total{endpoint=\"/v1/score\",code=\"415\"}"), sent[2]);
  EXPECT_DOUBLE_EQ(delta("micronet_ad_http_requests_total{endpoint=\"/v1/score\",code=\"400\"}"), sent[3] + sent[4]);
  EXPECT_DOUBLE_EQ(delta("micronet_ad_http_errors_total{kind=\"not_audio\"}"), sent[2]);
  EXPECT_DOUBLE_EQ(delta("micronet_ad_http_errors_total{kind=\"unknown_machine_id\"}"), sent[3]);
  EXPECT_DOUBLE_EQ(delta("micronet_ad_http_errors_total{kind=\"truncated_audio\"}"), sent[4]);
  EXPECT_DOUBLE_EQ(delta("micronet_ad_http_requests_total{endpoint=\"/healthz\",code=\"200\"}"), sent[5]);
  EXPECT_DOUBLE_EQ(delta("micronet_ad_http_requests_total{endpoint=\"/metrics\",code=\"200\"}"), 1);  // `before`
  EXPECT_DOUBLE_EQ(delta("micronet_ad_http_request_duration_seconds_count{endpoint=\"/v1/score\"}"),
                   sent[0] + sent[1] + sent[2] + sent[3] + sent[4]);
  EXPECT_DOUBLE_EQ(delta("micronet_ad_http_request_duration_seconds_bucket{endpoint=\"/v1/score\",le=\"+Inf\"}"),
                   sent[0] + sent[1] + sent[2] + sent[3] + sent[4]);
  EXPECT_EQ(delta("micronet_ad_http_errors_total{kind=\"overloaded\"}"), 0);
  EXPECT_EQ(metric(m1, "micronet_ad_http_requests_in_flight"), 1);  // the /metrics request itself
}

TEST(ServeLimits, AStalledUploadHoldsNoWorkerAndAFullQueueAnswers503) {
  Server server({"--workers", "1", "--max-queue", "0", "--request-timeout", "3"});
  // A client that stops in the middle of its body...
  const int stalled = test::connect_loopback(server.port());
  ASSERT_GE(stalled, 0);
  ASSERT_TRUE(
      test::send_all(stalled, "POST /v1/score?machine_id=00 HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\nRIFF"));
  // ...holds no worker (only complete requests reach one): a request for the only worker is
  // answered at once.
  auto c = server.client();
  const auto model = c->Get("/v1/model");
  ASSERT_TRUE(model);
  EXPECT_EQ(model->status, 200) << model->body;
  // The stalled upload is answered 408 once its request deadline passes, and the connection closed.
  const std::string answer = test::recv_all(stalled);
  ::close(stalled);
  EXPECT_NE(answer.find("HTTP/1.1 408"), std::string::npos) << answer;
  EXPECT_NE(answer.find("\"kind\":\"request_timeout\""), std::string::npos) << answer;

  // While the only worker scores a long clip, with no queue, further requests get a JSON 503.
  const std::string long_clip = file_bytes(make_wav(slider("test/normal_id_00_00000000.wav"), 100.0, "long100.wav"));
  std::atomic<bool> scored{false};
  std::thread scoring([&] {
    auto client = server.client();
    for (int tries = 0; tries < 1000; ++tries) {  // until the worker is not busy with a poll below
      const auto r = post_score(*client, long_clip);
      ASSERT_TRUE(r);
      if (r->status == 503) continue;
      EXPECT_EQ(r->status, 200) << r->body;
      break;
    }
    scored = true;
  });
  bool saw_busy = false;
  while (!scored && !saw_busy) {
    const httplib::Result busy = c->Get("/v1/model");
    if (busy && busy->status == 503) {
      saw_busy = true;
      error_json(busy, 503, "overloaded");
      EXPECT_EQ(busy->get_header_value("Retry-After"), "1");
    }
  }
  scoring.join();
  EXPECT_TRUE(saw_busy);
  const httplib::Result metrics = c->Get("/metrics");
  ASSERT_TRUE(metrics);
  ASSERT_EQ(metrics->status, 200);
  EXPECT_GE(metric(metrics->body, "micronet_ad_http_errors_total{kind=\"overloaded\"}"), 1);
  EXPECT_EQ(metric(metrics->body, "micronet_ad_http_errors_total{kind=\"request_timeout\"}"), 1);
  EXPECT_EQ(metric(metrics->body, "micronet_ad_http_requests_total{endpoint=\"/v1/score\",code=\"408\"}"), 1);
  EXPECT_EQ(server.stop(), 0) << server.stderr_text();
}

TEST(ServeLimits, SigtermFinishesTheRequestInFlightThenExits) {
  Server server({"--workers", "2"});
  const std::string clip = file_bytes(slider("test/anomaly_id_00_00000000.wav"));
  const int s = test::connect_loopback(server.port());
  ASSERT_GE(s, 0);
  const std::string head =
      "POST /v1/score?machine_id=00 HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(clip.size()) + "\r\n\r\n";
  const std::string first = head + clip.substr(0, clip.size() / 2);
  ASSERT_EQ(::send(s, first.data(), first.size(), MSG_NOSIGNAL), static_cast<ssize_t>(first.size()));
  // Wait until the server is reading that body (in flight: it and the /metrics request).
  auto c = server.client();
  bool in_flight = false;
  for (int i = 0; i < 500 && !in_flight; ++i) {
    const auto m = c->Get("/metrics");
    in_flight = m && metric(m->body, "micronet_ad_http_requests_in_flight") == 2;
    if (!in_flight) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(in_flight);
  ::kill(server.pid(), SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let it stop listening
  const std::string rest = clip.substr(clip.size() / 2);
  ASSERT_EQ(::send(s, rest.data(), rest.size(), MSG_NOSIGNAL), static_cast<ssize_t>(rest.size()));
  std::string answer;
  char buf[4096];
  for (ssize_t n; (n = ::recv(s, buf, sizeof buf, 0)) > 0;) answer.append(buf, static_cast<std::size_t>(n));
  ::close(s);
  ASSERT_NE(answer.find("HTTP/1.1 200"), std::string::npos) << answer;
  const json got = json::parse(answer.substr(answer.find("\r\n\r\n") + 4));
  expect_same_clip(got, score_clip(slider("test/anomaly_id_00_00000000.wav")));
  EXPECT_EQ(server.stop(), 0) << server.stderr_text();
  EXPECT_NE(server.stderr_text().find("SIGTERM; stopped after answering the requests in flight"), std::string::npos);
  // Nobody listens any more.
  EXPECT_EQ(raw_exchange(server.port(), "GET /healthz HTTP/1.1\r\n\r\n"), "connect failed");
}

std::string write_thresholds(const std::string& name, const std::string& sha1, double threshold) {
  const std::string path = test::temp_dir() + "/" + name;
  const json j = {{"format", "micronet-ad-thresholds"},
                  {"version", 1},
                  {"model_sha1", sha1},
                  {"score_kind", "neg_softmax"},
                  {"method", "empirical"},
                  {"quantile", 0.9},
                  {"machines", {{"id_00", {{"threshold", threshold}, {"clips", 10}}}}}};
  FILE* f = std::fopen(path.c_str(), "w");
  EXPECT_NE(f, nullptr);
  std::fputs(j.dump().c_str(), f);
  std::fclose(f);
  return path;
}

TEST(ServeThresholds, AnswersCarryTheDecisionForMachinesWithAThreshold) {
  // Between the two clips' scores (normal -0.9207, anomaly above it): one of each decision.
  const std::string normal = slider("test/normal_id_00_00000000.wav"),
                    anomaly = slider("test/anomaly_id_00_00000000.wav");
  const double normal_score = score_clip(normal)["score"].get<double>();
  const double anomaly_score = score_clip(anomaly)["score"].get<double>();
  ASSERT_LT(normal_score, anomaly_score);
  const double threshold = (normal_score + anomaly_score) / 2;
  Server server({"--thresholds", write_thresholds("t.json", "c54a0f0ddac24f2e62b48f26d8bee664d58c49b8", threshold)});
  auto c = server.client();
  for (const auto& [path, decision] : {std::pair{normal, "normal"}, std::pair{anomaly, "anomalous"}}) {
    const auto r = post_score(*c, file_bytes(path));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    const json j = json::parse(r->body);
    EXPECT_EQ(j["decision"], decision) << path;
    EXPECT_EQ(j["threshold"].get<double>(), threshold);
    EXPECT_EQ(j["score_kind"], "neg_softmax");
  }
  const auto other = post_score(*c, file_bytes(normal), "machine_id=02");  // no threshold for id_02
  ASSERT_TRUE(other);
  ASSERT_EQ(other->status, 200);
  EXPECT_FALSE(json::parse(other->body).contains("decision"));
  EXPECT_EQ(server.stop(), 0) << server.stderr_text();
  // The stream decides on the running clip score, line by line.
  const test::CliResult r =
      test::run_cli("stream --device null --machine-id 00 --max-seconds 3 --thresholds " +
                    write_thresholds("t2.json", "c54a0f0ddac24f2e62b48f26d8bee664d58c49b8", threshold));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  int checked = 0;
  for (std::string line; std::getline(lines, line); ++checked) {
    const json j = json::parse(line);
    EXPECT_EQ(j["decision"], j["clip_score"].get<double>() > threshold ? "anomalous" : "normal") << line;
  }
  EXPECT_GE(checked, 2);
}

TEST(ServeCli, BadOptionsFailClearly) {
  auto expect_error = [](const std::string& args, const std::string& message) {
    const test::CliResult r = test::run_cli(args);
    EXPECT_NE(r.exit_code, 0) << args;
    EXPECT_NE(r.err.find(message), std::string::npos) << args << "\nstderr: " << r.err;
  };
  expect_error("serve --listen 127.0.0.1", "expected HOST:PORT");
  expect_error("serve --listen 127.0.0.1:99999", "not a number in 0..65535");
  expect_error("serve --listen 192.0.2.1:0", "cannot listen on 192.0.2.1:0");
  expect_error("serve --listen 127.0.0.1:0 --thresholds /nonexistent/t.json", "/nonexistent/t.json");
  // Thresholds calibrated for another model are refused, for both commands.
  const std::string other = write_thresholds("other.json", std::string(40, 'a'), -0.5);
  expect_error("serve --listen 127.0.0.1:0 --thresholds " + other, other);
  expect_error("stream - --machine-id 00 --thresholds " + other, other);
  // A machine without a threshold cannot get stream decisions.
  expect_error("stream - --machine-id 04 --thresholds " +
                   write_thresholds("t3.json", "c54a0f0ddac24f2e62b48f26d8bee664d58c49b8", -0.5),
               "no threshold for machine id_04 (it has id_00)");
}

}  // namespace
}  // namespace micronet_ad
