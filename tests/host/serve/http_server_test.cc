// `micronet-ad serve`'s HTTP layer under abuse (docs/serve.md), a real process on loopback: bodies are
// cut at the limit whatever the transfer encoding, slow clients hold no worker and meet a
// deadline, the bind is exclusive, keep-alive works and is capped, a half-closed request is
// answered, SIGTERM drains within its deadline, bad framing and unknown parameters get 400s.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
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
using test::connect_loopback;
using test::error_json;
using test::file_bytes;
using test::recv_all;
using test::send_all;
using test::Server;
using Clock = std::chrono::steady_clock;

std::string clip_path() { return host::shared_path("data/dcase2020_task2/slider/test/normal_id_00_00000000.wav"); }

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// A field of /proc/PID/status ("VmHWM:  4567 kB"): its number.
long long proc_status(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(field + ":", 0) == 0) return std::stoll(line.substr(field.size() + 1));
  }
  ADD_FAILURE() << "no " << field << " in /proc/" << pid << "/status";
  return -1;
}

// Whether the socket has something to read (or was closed) within `ms`.
bool readable_within(int s, int ms) {
  pollfd p{s, POLLIN, 0};
  return ::poll(&p, 1, ms) > 0;
}

std::string score_request(const std::string& body, const std::string& extra_headers = "") {
  return "POST /v1/score?machine_id=00 HTTP/1.1\r\nHost: x\r\n" + extra_headers +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// Reads one HTTP answer (headers + Content-Length body) from a connection that stays open.
std::string read_answer(int s) {
  std::string answer;
  char c;
  while (answer.find("\r\n\r\n") == std::string::npos && ::recv(s, &c, 1, 0) == 1) answer += c;
  const std::size_t at = answer.find("Content-Length: ");
  if (at == std::string::npos) return answer;
  std::size_t left = std::stoul(answer.substr(at + 16));
  std::string body(left, '\0');
  for (ssize_t n; left > 0 && (n = ::recv(s, &body[body.size() - left], left, 0)) > 0;)
    left -= static_cast<std::size_t>(n);
  return answer + body;
}

// Whether the peer has closed the connection within `seconds` (a read returns 0 or an error).
bool closed_within(int s, double seconds) {
  pollfd p{s, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(seconds * 1000)) <= 0) return false;
  char c;
  return ::recv(s, &c, 1, MSG_DONTWAIT) <= 0;
}

const std::string kChunkedHead =
    "POST /v1/score?machine_id=00 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
const std::string kChunk = "10000\r\n" + std::string(0x10000, 'x') + "\r\n";  // 64 KiB

TEST(ServeAbuse, AChunkedUploadIsAnswered413AsSoonAsTheLimitIsReached) {
  Server server({"--workers", "1", "--max-body-mb", "4"});
  const int s = connect_loopback(server.port());
  ASSERT_GE(s, 0);
  ASSERT_TRUE(send_all(s, kChunkedHead));
  // Paced so that little waits in socket buffers: the answer arrives after the limit and before
  // the client has sent 1 MiB more (the old server read everything, then answered).
  long long sent = 0;
  while (sent < (16 << 20) && !readable_within(s, 20) && send_all(s, kChunk)) sent += 0x10000;
  const std::string answer = recv_all(s);
  ::close(s);
  EXPECT_NE(answer.find("HTTP/1.1 413"), std::string::npos) << answer.substr(0, 300);
  EXPECT_NE(answer.find("\"kind\":\"body_too_large\""), std::string::npos) << answer.substr(0, 300);
  EXPECT_GE(sent, 4 << 20);
  EXPECT_LE(sent, (4 << 20) + (1 << 20));
  EXPECT_EQ(server.stop(), 0) << server.stderr_text();
}

TEST(ServeAbuse, AChunkedFloodIsCutWithBoundedMemory) {
  Server server({"--workers", "1", "--max-body-mb", "4"});
  const int s = connect_loopback(server.port());
  ASSERT_GE(s, 0);
  // 100 MiB as fast as the server takes it, while the answer is awaited.
  std::atomic<long long> sent{0};
  std::thread flood([&] {
    if (!send_all(s, kChunkedHead)) return;
    for (int i = 0; i < 1600 && send_all(s, kChunk); ++i) sent += 0x10000;
  });
  const std::string answer = recv_all(s);
  ::shutdown(s, SHUT_RDWR);  // ends a send still blocked
  flood.join();
  ::close(s);
  EXPECT_NE(answer.find("HTTP/1.1 413"), std::string::npos) << answer.substr(0, 300);
  EXPECT_NE(answer.find("\"kind\":\"body_too_large\""), std::string::npos) << answer.substr(0, 300);
  EXPECT_LT(sent.load(), 100 << 20);  // cut before the end (socket buffers hold some)
  EXPECT_LT(proc_status(server.pid(), "VmHWM"), 200 * 1024) << "kB, peak resident";
  EXPECT_EQ(server.stop(), 0) << server.stderr_text();
}

TEST(ServeAbuse, SlowClientsHoldNoWorkerAndMeetTheRequestDeadline) {
  Server server({"--workers", "1", "--request-timeout", "2"});
  // Two clients sending their headers one byte a second (slowloris).
  const std::string head = "GET /v1/model HTTP/1.1\r\nHost: x\r\nX-Slow: ";
  std::vector<int> slow;
  std::atomic<bool> done{false};
  std::vector<std::thread> drips;
  for (int i = 0; i < 2; ++i) {
    slow.push_back(connect_loopback(server.port()));
    ASSERT_GE(slow.back(), 0);
    drips.emplace_back([&, s = slow.back()] {
      const std::string bytes = head + std::string(60, 'a');
      for (std::size_t k = 0; k < bytes.size() && !done && send_all(s, bytes.substr(k, 1)); ++k) {
        std::this_thread::sleep_for(std::chrono::seconds(1));
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  // A good request for the only worker is answered at once, not after the slow ones.
  auto c = server.client();
  const Clock::time_point start = Clock::now();
  const auto r = c->Post("/v1/score?machine_id=00", file_bytes(clip_path()), "audio/wav");
  const double took = seconds_since(start);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_LT(took, 2.0);  // generous: scoring takes ~30 ms (Release), the old server took 5+ s
  // The slow clients get a 408 and are closed at their 2 s deadline (counted from connecting).
  for (int s : slow) {
    const std::string answer = recv_all(s);
    EXPECT_NE(answer.find("HTTP/1.1 408"), std::string::npos) << answer;
    EXPECT_NE(answer.find("\"kind\":\"request_timeout\""), std::string::npos) << answer;
  }
  const double closed_after = seconds_since(start) + 1.2;
  EXPECT_GE(closed_after, 1.5);
  EXPECT_LT(closed_after, 6.0);
  done = true;
  for (std::thread& t : drips) t.join();
  for (int s : slow) ::close(s);
  EXPECT_EQ(server.stop(), 0) << server.stderr_text();
}

TEST(ServeAbuse, ASecondServerOnTheSameAddressFails) {
  Server first({"--workers", "1"});
  const test::CliResult second = test::run_cli("serve --workers 1 --listen 127.0.0.1:" + std::to_string(first.port()));
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_NE(second.err.find("cannot listen on 127.0.0.1:" + std::to_string(first.port()) + ": Address already in use"),
            std::string::npos)
      << second.err;
  EXPECT_EQ(first.stop(), 0) << first.stderr_text();
}

TEST(ServeAbuse, KeepAliveServesSeveralRequestsOnOneConnectionUpToTheCap) {
  Server server({"--workers", "1", "--max-requests-per-connection", "2"});
  const std::string clip = file_bytes(clip_path());
  // Three requests on one HTTP/1.1 connection with the default cap, each answered on it.
  Server open_server({"--workers", "1"});
  const int s = connect_loopback(open_server.port());
  ASSERT_GE(s, 0);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(send_all(s, score_request(clip)));
    const std::string answer = read_answer(s);
    EXPECT_NE(answer.find("HTTP/1.1 200"), std::string::npos) << i << ": " << answer.substr(0, 300);
    EXPECT_NE(answer.find("\"windows\":13"), std::string::npos) << i;
    EXPECT_EQ(answer.find("Connection: close"), std::string::npos) << i;
  }
  ::close(s);
  EXPECT_EQ(open_server.stop(), 0) << open_server.stderr_text();
  // With a cap of 2 the second answer says Connection: close, and the server closes.
  const int capped = connect_loopback(server.port());
  ASSERT_GE(capped, 0);
  ASSERT_TRUE(send_all(capped, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(read_answer(capped).find("Connection: close"), std::string::npos);
  ASSERT_TRUE(send_all(capped, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  const std::string last = read_answer(capped);
  EXPECT_NE(last.find("HTTP/1.1 200"), std::string::npos) << last;
  EXPECT_NE(last.find("Connection: close"), std::string::npos) << last;
  EXPECT_TRUE(closed_within(capped, 5.0));
  ::close(capped);
  EXPECT_EQ(server.stop(), 0) << server.stderr_text();
}

TEST(ServeAbuse, AnIdleKeepAliveConnectionIsClosedAfterItsTimeout) {
  Server server({"--workers", "1", "--keep-alive-timeout", "1"});
  const int s = connect_loopback(server.port());
  ASSERT_GE(s, 0);
  ASSERT_TRUE(send_all(s, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_NE(read_answer(s).find("HTTP/1.1 200"), std::string::npos);
  const Clock::time_point start = Clock::now();
  EXPECT_TRUE(closed_within(s, 5.0));
  EXPECT_GE(seconds_since(start), 0.8);
  ::close(s);
  EXPECT_EQ(server.stop(), 0) << server.stderr_text();
}

TEST(ServeAbuse, AHalfClosedRequestIsAnswered) {
  Server server({"--workers", "1"});
  const std::string clip = file_bytes(clip_path());
  for (int i = 0; i < 5; ++i) {
    const int s = connect_loopback(server.port());
    ASSERT_GE(s, 0);
    ASSERT_TRUE(send_all(s, score_request(clip)));
    ::shutdown(s, SHUT_WR);  // as `nc -N` does
    const std::string answer = recv_all(s);
    ::close(s);
    ASSERT_NE(answer.find("HTTP/1.1 200"), std::string::npos) << i << ": " << answer;
    const json j = json::parse(answer.substr(answer.find("\r\n\r\n") + 4));
    EXPECT_EQ(j["windows"], 13);
  }
  EXPECT_EQ(server.stop(), 0) << server.stderr_text();
}

TEST(ServeAbuse, SigtermWithASlowClientExitsWithinTheDrainDeadline) {
  Server server({"--workers", "1", "--request-timeout", "60", "--drain-timeout", "2"});
  const int slow = connect_loopback(server.port());
  ASSERT_GE(slow, 0);
  // Its headers are complete (in flight) but the body never comes.
  ASSERT_TRUE(send_all(slow, "POST /v1/score?machine_id=00 HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nRI"));
  // An idle keep-alive connection is closed by the drain at once.
  const int idle = connect_loopback(server.port());
  ASSERT_GE(idle, 0);
  ASSERT_TRUE(send_all(idle, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_NE(read_answer(idle).find("HTTP/1.1 200"), std::string::npos);
  const Clock::time_point start = Clock::now();
  const int code = server.stop();
  const double took = seconds_since(start);
  EXPECT_EQ(code, 0) << server.stderr_text();
  EXPECT_GE(took, 1.5);  // it did wait for the request in flight...
  EXPECT_LT(took, 5.0);  // ...but not beyond the drain deadline (the old server took 19-29 s)
  EXPECT_TRUE(closed_within(idle, 0.1));
  EXPECT_TRUE(closed_within(slow, 0.1));
  ::close(idle);
  ::close(slow);
}

TEST(ServeAbuse, RequestsArrivingDuringTheDrainGet503ShuttingDown) {
  Server server({"--workers", "1", "--request-timeout", "60", "--drain-timeout", "3"});
  const std::string clip = file_bytes(clip_path());
  // A request in flight keeps the server draining; a second connection has sent nothing yet.
  const int in_flight = connect_loopback(server.port());
  const int late = connect_loopback(server.port());
  ASSERT_GE(in_flight, 0);
  ASSERT_GE(late, 0);
  const std::string request = score_request(clip);
  ASSERT_TRUE(send_all(in_flight, request.substr(0, request.size() / 2)));
  auto c = server.client();
  for (int i = 0; i < 500; ++i) {  // until the server counts it in flight (with the /metrics request)
    const auto m = c->Get("/metrics");
    if (m && test::metric(m->body, "micronet_ad_http_requests_in_flight") == 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(server.pid(), SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_TRUE(send_all(late, "GET /v1/model HTTP/1.1\r\nHost: x\r\n\r\n"));
  const std::string refused = recv_all(late);
  EXPECT_NE(refused.find("HTTP/1.1 503"), std::string::npos) << refused;
  EXPECT_NE(refused.find("\"kind\":\"shutting_down\""), std::string::npos) << refused;
  EXPECT_NE(refused.find("Connection: close"), std::string::npos) << refused;
  ASSERT_TRUE(send_all(in_flight, request.substr(request.size() / 2)));
  const std::string answered = recv_all(in_flight);
  EXPECT_NE(answered.find("HTTP/1.1 200"), std::string::npos) << answered;
  ::close(late);
  ::close(in_flight);
  EXPECT_EQ(server.stop(), 0) << server.stderr_text();
}

TEST(ServeAbuse, AClientThatResetsMidBodyIsNoLongerInFlight) {
  Server server({"--workers", "1"});
  const int s = connect_loopback(server.port());
  ASSERT_GE(s, 0);
  ASSERT_TRUE(send_all(s, "POST /v1/score?machine_id=00 HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nRIFF"));
  auto c = server.client();
  auto in_flight = [&] {
    const auto m = c->Get("/metrics");
    return m ? test::metric(m->body, "micronet_ad_http_requests_in_flight") : -1.0;
  };
  for (int i = 0; i < 500 && in_flight() != 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(in_flight(), 2);  // it and the /metrics request
  const linger reset{1, 0};
  ::setsockopt(s, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  ::close(s);  // RST
  double now = 2;
  for (int i = 0; i < 500 && (now = in_flight()) != 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(now, 1);
  const auto m = c->Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_EQ(test::metric(m->body, "micronet_ad_http_errors_total{kind=\"connection_closed\"}"), 1);
  EXPECT_EQ(server.stop(), 0) << server.stderr_text();
}

TEST(ServeAbuse, BadFramingAndUnknownParametersGet400) {
  Server server({"--workers", "1"});
  auto exchange = [&](const std::string& bytes) {
    const int s = connect_loopback(server.port());
    EXPECT_GE(s, 0);
    send_all(s, bytes);
    ::shutdown(s, SHUT_WR);
    const std::string answer = recv_all(s);
    ::close(s);
    return answer;
  };
  const std::string head = "POST /v1/score?machine_id=00 HTTP/1.1\r\nHost: x\r\n";
  for (const std::string& bad :
       {head + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef", head + "Content-Length: abc\r\n\r\nabcdef",
        head + "Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
        std::string("GET /healthz?a=%zz HTTP/1.1\r\n\r\n"), std::string("GET /healthz?a=1&a=2 HTTP/1.1\r\n\r\n")}) {
    const std::string answer = exchange(bad);
    EXPECT_NE(answer.find("HTTP/1.1 400"), std::string::npos) << bad << "\n" << answer;
    EXPECT_NE(answer.find("\"kind\":\"bad_request\""), std::string::npos) << bad << "\n" << answer;
  }
  const std::string big = exchange("GET /healthz HTTP/1.1\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n");
  EXPECT_NE(big.find("HTTP/1.1 431"), std::string::npos) << big;
  // A huge Content-Length is refused before any body is read.
  const std::string huge = exchange(head + "Content-Length: 99999999999\r\n\r\n");
  EXPECT_NE(huge.find("HTTP/1.1 413"), std::string::npos) << huge;
  auto c = server.client();
  const json unknown =
      error_json(c->Post("/v1/score?machine_id=00&machineid=00", "x", "audio/wav"), 400, "unknown_parameter");
  EXPECT_NE(unknown.value("error", "").find("'machineid' (accepted: machine_id, machine, name)"), std::string::npos)
      << unknown;
  error_json(c->Get("/healthz?verbose=1"), 400, "unknown_parameter");
  EXPECT_EQ(server.stop(), 0) << server.stderr_text();
}

}  // namespace
}  // namespace micronet_ad
