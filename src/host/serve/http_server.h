// A small evented HTTP/1.1 server (Boost.Asio + Boost.Beast) that knows nothing about scoring.
//
// One I/O thread owns every socket: it accepts, reads requests with a deadline covering headers
// and body, enforces the header and body limits for every transfer encoding, keeps connections
// alive with an idle timeout and a cap on requests per connection, and writes answers with a
// write deadline. Only complete requests reach the `workers` threads, through a bounded queue;
// when it is full the I/O thread answers 503 (kind "overloaded") at once, so slow or stalled
// clients never hold a worker. Cheap routes (health, metrics) may run inline on the I/O thread.
//
// stop() drains: the listen backlog is accepted and the listener closed; requests in flight
// (headers received before stop) are answered normally; requests whose headers arrive after stop
// get 503 "shutting_down"; idle connections are closed; after drain_deadline whatever is still
// open is closed and run() returns.
//
// Errors the server answers itself carry the JSON body {"error", "kind", "status"}: 400
// bad_request (malformed framing, bad query string, truncated request), 408 request_timeout,
// 413 body_too_large, 431 header_too_large, 503 overloaded / shutting_down.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "host/serve/http_parse.h"

namespace micronet_ad::host {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // percent-decoded, without the query
  QueryParams query;   // decoded
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // The first value of a header (name case-insensitive); "" when absent.
  std::string header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra ones (Location, Retry-After)
  std::string error_kind;  // for an error answer: its "kind" (reported to the observer)
};

// A JSON error answer: {"error": message, "kind": kind, "status": status}.
HttpResponse json_error(int status, const std::string& kind, const std::string& message);

struct HttpLimits {
  std::size_t max_body_bytes = std::size_t(32) << 20;
  std::size_t max_header_bytes = std::size_t(16) << 10;
  std::chrono::milliseconds request_deadline{10000};  // headers + body of one request
  std::chrono::milliseconds write_deadline{5000};     // one answer
  std::chrono::milliseconds keep_alive_idle{5000};    // wait for the next request's first byte
  std::size_t max_requests_per_connection = 100;
  std::size_t max_connections = 512;  // beyond: an immediate 503 and close
  std::size_t max_queue = 64;         // complete requests waiting beyond the idle workers
  std::chrono::milliseconds drain_deadline{10000};
};

class HttpServer {
 public:
  // Runs a request on worker `worker` (0..workers-1), or on the I/O thread with -1 for inline
  // routes. Exceptions become 500 "internal".
  using Handler = std::function<HttpResponse(const HttpRequest&, int worker)>;
  // Whether a request (method, decoded path) is cheap enough to run on the I/O thread.
  using InlineRoute = std::function<bool(const std::string& method, const std::string& path)>;
  // Called on the I/O thread: when a request's headers are complete, and once per answer just
  // before it is written (`path` "" when the request could not be parsed; `seconds` since its
  // headers were complete, or < 0 when they never were).
  struct Observer {
    std::function<void()> started;
    std::function<void(const std::string& path, const HttpResponse& response, double seconds)> answered;
  };

  HttpServer(const HttpLimits& limits, int workers, Handler handler, InlineRoute inline_route, Observer observer);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens (exclusively: no SO_REUSEPORT) on host:port; returns the port (the actual
  // one for 0). Throws std::runtime_error "cannot listen on HOST:PORT: <reason>".
  int bind(const std::string& host, int port);
  // Serves until stop() has drained; then joins the workers and returns.
  void run();
  // Thread-safe, idempotent, and effective even before run() starts.
  void stop();

  struct Impl;  // the I/O state; public only so that http_server.cc's connections can reach it

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace micronet_ad::host
