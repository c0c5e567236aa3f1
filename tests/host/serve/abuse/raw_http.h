// A minimal HTTP/1.1 client on raw POSIX sockets, for attackers that must control every byte and
// every pause (slow clients, floods, half-sent requests) and for telling apart "answered",
// "closed unanswered" and "reset". Loopback only; no gtest here so bench/load can reuse it.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "support/loopback.h"

namespace micronet_ad::abuse {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

inline int ms_until(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::max<long long>(0, left));
}

using test::connect_loopback;

// What became of one request.
struct HttpAnswer {
  bool connected = false;
  bool sent_all = false;   // every request byte was accepted by the kernel
  bool complete = false;   // status line, headers and the whole body arrived
  bool reset = false;      // ECONNRESET / EPIPE
  bool timed_out = false;  // the deadline passed first
  int status = 0;
  std::string head;  // status line and headers
  std::string body;
  std::size_t body_bytes_sent = 0;  // for floods: body bytes sent before the answer was seen
  double seconds = 0.0;             // from connect to the complete answer (or giving up)

  // A header's value (case-insensitive name), "" if absent.
  std::string header(const std::string& name) const {
    std::string lower_head = head, lower_name = name + ":";
    for (char& c : lower_head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (char& c : lower_name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const std::size_t at = lower_head.find("\n" + lower_name);
    if (at == std::string::npos) return "";
    std::size_t from = at + 1 + lower_name.size();
    const std::size_t end = head.find('\r', from);
    while (from < end && head[from] == ' ') ++from;
    return head.substr(from, end - from);
  }
  // Why this is not a complete answer, for failure messages.
  std::string failure() const {
    if (!connected) return "connect failed";
    if (complete) return "answered " + std::to_string(status);
    if (reset) return "reset (" + std::to_string(body_bytes_sent) + " body bytes sent)";
    if (timed_out) return "no answer before the deadline";
    return "closed without a complete answer";
  }
};

// Decodes a chunked body from `data`; false until the last chunk has arrived.
inline bool dechunk(const std::string& data, std::string* body) {
  body->clear();
  std::size_t at = 0;
  for (;;) {
    const std::size_t eol = data.find("\r\n", at);
    if (eol == std::string::npos) return false;
    const std::size_t size = std::strtoul(data.substr(at, eol - at).c_str(), nullptr, 16);
    if (size == 0) return data.find("\r\n", eol + 2) != std::string::npos;  // trailers end
    if (data.size() < eol + 2 + size + 2) return false;
    body->append(data, eol + 2, size);
    at = eol + 2 + size + 2;
  }
}

// Parses what arrived so far; true once the response is complete (`closed`: the peer is done).
inline bool parse_answer(const std::string& data, bool closed, HttpAnswer* a) {
  const std::size_t end = data.find("\r\n\r\n");
  if (end == std::string::npos || data.compare(0, 5, "HTTP/") != 0) return false;
  a->head = data.substr(0, end + 2);
  const std::size_t space = a->head.find(' ');
  a->status = space == std::string::npos ? 0 : std::atoi(a->head.c_str() + space + 1);
  const std::string rest = data.substr(end + 4);
  const std::string length = a->header("Content-Length");
  if (!length.empty()) {
    const std::size_t n = std::strtoul(length.c_str(), nullptr, 10);
    if (rest.size() < n) return false;
    a->body = rest.substr(0, n);
    return true;
  }
  std::string te = a->header("Transfer-Encoding");
  for (char& c : te) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (te.find("chunked") != std::string::npos) return dechunk(rest, &a->body);
  if (a->status == 204 || a->status == 304 || a->status / 100 == 1) return true;
  a->body = rest;
  return closed;  // no framing: the body ends with the connection
}

inline bool is_reset(int error) { return error == ECONNRESET || error == EPIPE; }

// Sends all of `bytes` before `deadline`; false (with a->reset / a->timed_out) otherwise.
inline bool send_all(int fd, const char* bytes, std::size_t size, Clock::time_point deadline, HttpAnswer* a) {
  while (size > 0) {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, ms_until(deadline)) <= 0) return (a->timed_out = true), false;
    const ssize_t n = ::send(fd, bytes, size, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      a->reset = is_reset(errno);
      return false;
    }
    bytes += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// Reads until the answer is complete, the peer closes or resets, or `deadline` passes.
inline void read_answer(int fd, Clock::time_point deadline, std::string* data, HttpAnswer* a) {
  char buf[65536];
  for (;;) {
    if (parse_answer(*data, false, a)) return void(a->complete = true);
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, ms_until(deadline)) <= 0) return void(a->timed_out = true);
    const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
      data->append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n < 0) a->reset = is_reset(errno);
    a->complete = parse_answer(*data, true, a);
    return;
  }
}

// One request on a fresh connection: send it all, read the answer, close.
inline HttpAnswer exchange(int port, const std::string& request, double timeout_seconds) {
  HttpAnswer a;
  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_seconds));
  const int fd = connect_loopback(port);
  if (fd < 0) return a;
  a.connected = true;
  std::string data;
  a.sent_all = send_all(fd, request.data(), request.size(), deadline, &a);
  // A server may answer (413, 503) before it has read everything: read the answer either way.
  if (a.sent_all || a.reset) read_answer(fd, deadline, &data, &a);
  ::close(fd);
  a.seconds = seconds_since(start);
  return a;
}

// "POST target HTTP/1.1" with a Content-Length body and Connection: close.
inline std::string post_request(const std::string& target, const std::string& body,
                                const std::string& content_type = "application/octet-stream") {
  return "POST " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: " + content_type +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

inline std::string get_request(const std::string& target) {
  return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
}

}  // namespace micronet_ad::abuse
