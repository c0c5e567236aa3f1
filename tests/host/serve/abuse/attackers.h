// Attackers for `micronet-ad serve`, one function per attack, on raw sockets (raw_http.h): slow
// clients that trickle headers or a body (slowloris), and body floods (chunked, or a huge
// Content-Length). Used by abuse_test.cc and bench/load/load_client.cc; no gtest.
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "host/serve/abuse/raw_http.h"

namespace micronet_ad::abuse {

// ---- slowloris ---------------------------------------------------------------------------------

struct SlowClientsPlan {
  int header_clients = 48;                        // trickle the request line and headers, never finishing them
  int body_clients = 16;                          // send whole headers, then trickle the body (half chunked)
  double min_interval = 0.5, max_interval = 1.0;  // seconds between two bytes of one client
  double seconds = 10.0;                          // how long the attack lasts
  bool reconnect = false;                         // reopen a client the server closed (for load)
  const std::atomic<bool>* stop = nullptr;        // ends the attack early when set
};

struct SlowClientsReport {
  int opened = 0, connect_failures = 0;
  int closed_by_server = 0;           // EOF or reset seen by the client
  int still_open = 0;                 // at the end of the attack
  std::map<int, int> statuses;        // answers the server sent before closing (408, ...)
  double longest_before_close = 0.0;  // seconds from connect to the server's close
};

namespace detail {

struct SlowClient {
  int fd = -1;
  std::string bytes;  // what it trickles, one byte at a time
  std::size_t next = 0;
  Clock::time_point opened, next_send;
  std::string received;
  bool answered = false;
};

inline std::string slow_header_bytes() {
  return "POST /v1/score?machine_id=00 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + std::string(8192, 'a');
}

// Whole headers (sent at once), then a body that is never completed at a byte per interval.
inline std::pair<std::string, std::string> slow_body_bytes(bool chunked) {
  const std::string head = std::string("POST /v1/score?machine_id=00 HTTP/1.1\r\nHost: 127.0.0.1\r\n") +
                           (chunked ? "Transfer-Encoding: chunked\r\n\r\n" : "Content-Length: 1000000\r\n\r\n");
  std::string body;
  for (int i = 0; i < 2000; ++i) body += chunked ? "1\r\nR\r\n" : "R";
  return {head, body};
}

inline bool open_slow_client(int port, int index, const SlowClientsPlan& plan, SlowClient* c) {
  c->fd = connect_loopback(port);
  if (c->fd < 0) return false;
  c->opened = c->next_send = Clock::now();
  c->next = 0;
  c->received.clear();
  c->answered = false;
  if (index < plan.header_clients) {
    c->bytes = slow_header_bytes();
    return true;
  }
  const auto [head, body] = slow_body_bytes(index % 2 == 1);
  HttpAnswer ignored;
  c->bytes = body;
  return send_all(c->fd, head.data(), head.size(), Clock::now() + std::chrono::seconds(2), &ignored);
}

// Reads what the server sent; true when it closed the connection.
inline bool server_closed(SlowClient* c, SlowClientsReport* r) {
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
      c->received.append(buf, static_cast<std::size_t>(n));
      HttpAnswer a;
      if (!c->answered && parse_answer(c->received, false, &a)) {
        c->answered = true;
        ++r->statuses[a.status];
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n == 0 || (n < 0 && errno != EAGAIN);
  }
}

// Sends the next byte if it is due; true when the server has closed (EPIPE/ECONNRESET).
inline bool trickle(SlowClient* c, std::mt19937* rng, const SlowClientsPlan& plan) {
  if (c->answered || Clock::now() < c->next_send || c->next >= c->bytes.size()) return false;
  const ssize_t n = ::send(c->fd, c->bytes.data() + c->next, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
  if (n < 0 && errno != EAGAIN && errno != EINTR) return true;
  if (n == 1) ++c->next;
  std::uniform_real_distribution<double> interval(plan.min_interval, plan.max_interval);
  c->next_send =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(interval(*rng)));
  return false;
}

}  // namespace detail

// Runs the slow clients on this thread until plan.seconds pass (or plan.stop); every client is
// closed at the end.
inline SlowClientsReport slow_clients(int port, const SlowClientsPlan& plan) {
  SlowClientsReport report;
  std::mt19937 rng(1234);
  std::vector<detail::SlowClient> clients(static_cast<std::size_t>(plan.header_clients + plan.body_clients));
  for (std::size_t i = 0; i < clients.size(); ++i) {
    if (detail::open_slow_client(port, static_cast<int>(i), plan, &clients[i])) {
      ++report.opened;
    } else {
      ++report.connect_failures;
      if (clients[i].fd >= 0) ::close(clients[i].fd);
      clients[i].fd = -1;
    }
  }
  const Clock::time_point end =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(plan.seconds));
  while (Clock::now() < end && !(plan.stop && *plan.stop)) {
    std::vector<pollfd> fds;
    for (const detail::SlowClient& c : clients) fds.push_back({c.fd, POLLIN, 0});  // fd -1 is skipped
    ::poll(fds.data(), fds.size(), 50);
    for (std::size_t i = 0; i < clients.size(); ++i) {
      detail::SlowClient& c = clients[i];
      if (c.fd < 0) continue;
      const bool closed = ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) && detail::server_closed(&c, &report)) ||
                          detail::trickle(&c, &rng, plan);
      if (!closed) continue;
      ++report.closed_by_server;
      report.longest_before_close = std::max(report.longest_before_close, seconds_since(c.opened));
      ::close(c.fd);
      c.fd = -1;
      if (plan.reconnect && detail::open_slow_client(port, static_cast<int>(i), plan, &c)) ++report.opened;
    }
  }
  for (detail::SlowClient& c : clients) {
    if (c.fd < 0) continue;
    ++report.still_open;
    ::close(c.fd);
  }
  return report;
}

// ---- body floods -------------------------------------------------------------------------------

enum class FloodKind { kChunked, kHugeContentLength };

// One upload of `total_bytes` to /v1/score: chunked, or declaring 100 GiB in Content-Length. It
// stops sending as soon as the server answers (or closes) and returns the answer, with
// body_bytes_sent the body bytes (chunk framing included) the kernel took before that.
inline HttpAnswer flood(int port, FloodKind kind, std::size_t total_bytes, double timeout_seconds) {
  HttpAnswer a;
  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_seconds));
  const int fd = connect_loopback(port, 128 * 1024);
  if (fd < 0) return a;
  a.connected = true;
  const std::string head =
      std::string("POST /v1/score?machine_id=00 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: audio/wav\r\n") +
      (kind == FloodKind::kChunked ? "Transfer-Encoding: chunked\r\n" : "Content-Length: 107374182400\r\n") +
      "Connection: close\r\n\r\n";
  const std::string piece =
      kind == FloodKind::kChunked ? "10000\r\n" + std::string(65536, 'R') + "\r\n" : std::string(65536, 'R');
  std::string data;
  if (send_all(fd, head.data(), head.size(), deadline, &a)) {
    std::size_t offset = 0;  // within `piece`
    while (a.body_bytes_sent < total_bytes) {
      pollfd p{fd, POLLIN | POLLOUT, 0};
      if (::poll(&p, 1, ms_until(deadline)) <= 0) {
        a.timed_out = true;
        break;
      }
      if (p.revents & (POLLIN | POLLHUP | POLLERR)) break;  // answered or closed: stop sending
      const ssize_t n = ::send(fd, piece.data() + offset, piece.size() - offset, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n < 0) {
        a.reset = is_reset(errno);
        break;
      }
      a.body_bytes_sent += static_cast<std::size_t>(n);
      offset = (offset + static_cast<std::size_t>(n)) % piece.size();
    }
    a.sent_all = a.body_bytes_sent >= total_bytes;
    if (a.sent_all && kind == FloodKind::kChunked) send_all(fd, "0\r\n\r\n", 5, deadline, &a);
    if (!a.timed_out) read_answer(fd, deadline, &data, &a);
  }
  ::close(fd);
  a.seconds = seconds_since(start);
  return a;
}

// ---- good clients ------------------------------------------------------------------------------

// POST /v1/score?machine_id=00 of an audio file's bytes, on a fresh connection.
inline HttpAnswer score_request(int port, const std::string& audio, double timeout_seconds) {
  return exchange(port, post_request("/v1/score?machine_id=00", audio, "audio/wav"), timeout_seconds);
}

}  // namespace micronet_ad::abuse
