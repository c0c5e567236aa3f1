#include "host/serve/http_server.h"

#include <array>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_set>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "host/io/json_text.h"

namespace micronet_ad::host {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

std::string HttpRequest::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() && std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        })) {
      return value;
    }
  }
  return "";
}

HttpResponse json_error(int status, const std::string& kind, const std::string& message) {
  const nlohmann::ordered_json j{{"error", message}, {"kind", kind}, {"status", status}};
  HttpResponse r;
  r.status = status;
  r.body = wire_json(j) + "\n";
  r.error_kind = kind;
  return r;
}

namespace {

// `workers` threads, each with its index, taking jobs from a queue of at most `max_queue` beyond
// the idle workers; try_submit refuses beyond that instead of waiting.
class WorkerPool {
 public:
  using Job = std::function<void(int worker)>;

  WorkerPool(int workers, std::size_t max_queue) : max_queue_(max_queue), idle_(static_cast<std::size_t>(workers)) {
    for (int i = 0; i < workers; ++i) threads_.emplace_back([this, i] { work(i); });
  }
  ~WorkerPool() { shutdown(); }

  bool try_submit(Job job) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopped_ || jobs_.size() >= max_queue_ + idle_) return false;
    jobs_.push_back(std::move(job));
    ready_.notify_one();
    return true;
  }

  // Runs the queued jobs, then joins.
  void shutdown() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopped_ = true;
    }
    ready_.notify_all();
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

 private:
  void work(int index) {
    for (;;) {
      Job job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        ready_.wait(lock, [&] { return !jobs_.empty() || stopped_; });
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
        --idle_;
      }
      job(index);
      std::lock_guard<std::mutex> lock(mutex_);
      ++idle_;
    }
  }

  const std::size_t max_queue_;
  std::size_t idle_;  // workers not running a job (a queued job still counts them idle)
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Job> jobs_;
  bool stopped_ = false;
  std::vector<std::thread> threads_;
};

class Connection;

// Bytes of input read (and dropped) after an answer that closes the connection, so the client
// reads the answer rather than a reset; beyond them the connection is simply closed. Clients
// that read only after sending their whole body (curl, cpp-httplib) see the 413 for an upload up
// to the limit + this much; the reading costs no memory (one shared buffer).
constexpr std::size_t kMaxLingerBytes = 8 << 20;
constexpr std::chrono::milliseconds kLingerTime{2000};

std::string seconds_text(std::chrono::milliseconds d) {
  const long long ms = d.count();
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
}

HttpResponse run_handler(const HttpServer::Handler& handler, const HttpRequest& request, int worker) {
  try {
    return handler(request, worker);
  } catch (const std::exception& e) {
    return json_error(500, "internal", std::string("internal error: ") + e.what());
  } catch (...) {
    return json_error(500, "internal", "internal error");
  }
}

}  // namespace

struct HttpServer::Impl {
  Impl(const HttpLimits& l, int w, Handler h, InlineRoute r, Observer o)
      : limits(l), handler(std::move(h)), inline_route(std::move(r)), observer(std::move(o)), pool(w, l.max_queue) {}

  void accept();
  void start_connection(tcp::socket socket);
  void refuse_connection(tcp::socket& socket);
  void begin_drain();
  void finish();
  void force_finish();
  void connection_closed(Connection* connection);
  void answered(const std::string& path, const HttpResponse& response, double seconds) const {
    if (observer.answered) observer.answered(path, response, seconds);
  }

  const HttpLimits limits;
  const Handler handler;
  const InlineRoute inline_route;
  const Observer observer;
  // Declared before the io_context: handlers it destroys may end connections, which leave this.
  std::unordered_set<Connection*> connections;
  bool stopping = false, finished = false;
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  asio::executor_work_guard<asio::io_context::executor_type> guard{ioc.get_executor()};
  asio::steady_timer drain_timer{ioc}, accept_retry{ioc};
  std::array<char, 64 << 10> discard_buffer{};  // lingering connections read into it (one thread)
  WorkerPool pool;                              // declared last: joined before the io_context goes
};

namespace {

// One client connection, driven by the I/O thread only (workers post their answers back).
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(HttpServer::Impl& server, tcp::socket socket)
      : server_(server), limits_(server.limits), socket_(std::move(socket)), timer_(server.ioc) {
    server_.connections.insert(this);
  }
  ~Connection() { server_.connection_closed(this); }

  void start() { read_request(); }
  // Stop was requested: a connection waiting for its next request goes; the others finish.
  void drain() {
    if (state_ == State::kIdle) close();
  }
  void close() {
    if (started_) {  // a request without an answer: still counted once (nginx's 499)
      report(json_error(499, "connection_closed", "the connection closed before the answer was written"));
    }
    state_ = State::kClosed;
    disarm();
    beast::error_code ec;
    socket_.close(ec);
  }

 private:
  enum class State { kIdle, kReading, kHandling, kWriting, kLingering, kClosed };

  void arm(std::chrono::milliseconds after) {
    const unsigned generation = ++timer_generation_;
    timer_.expires_after(after);
    timer_.async_wait([self = shared_from_this(), generation](beast::error_code ec) {
      if (!ec && generation == self->timer_generation_) self->on_deadline();
    });
  }
  void disarm() {
    ++timer_generation_;
    timer_.cancel();
  }

  void on_deadline() {
    if (state_ == State::kReading) {
      timed_out_ = true;  // the read completes with operation_aborted and answers 408
      beast::error_code ec;
      socket_.cancel(ec);
    } else if (state_ != State::kHandling) {
      close();
    }
  }

  void read_request() {
    state_ = State::kReading;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
    parser_->body_limit(limits_.max_body_bytes);
    timed_out_ = false;
    arm(limits_.request_deadline);
    http::async_read_header(socket_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    headers_at_ = Clock::now();
    started_ = true;
    in_flight_at_stop_ = !server_.stopping;
    if (server_.observer.started) server_.observer.started();
    const auto expect = parser_->get().find(http::field::expect);
    if (!parser_->is_done() && expect != parser_->get().end() && beast::iequals(expect->value(), "100-continue")) {
      static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      asio::async_write(socket_, asio::buffer(kContinue),
                        [self = shared_from_this()](beast::error_code e, std::size_t) {
                          if (e) return self->close();
                          self->read_body();
                        });
      return;
    }
    read_body();
  }

  void read_body() {
    http::async_read(socket_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_body(ec); });
  }

  void on_body(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    disarm();
    dispatch();
  }

  void on_read_error(beast::error_code ec) {
    disarm();
    if (state_ == State::kClosed) return;
    keep_alive_ = false;
    path_ = target_path();
    if (timed_out_) {
      return answer(json_error(
          408, "request_timeout",
          "the request (headers and body) was not received within " + seconds_text(limits_.request_deadline)));
    }
    if (ec == http::error::end_of_stream ||
        ec.category() != http::make_error_code(http::error::end_of_stream).category()) {
      return close();  // the client closed before sending a request, or the connection failed
    }
    if (ec == http::error::body_limit) {
      return answer(
          json_error(413, "body_too_large",
                     "request body is larger than the limit of " + std::to_string(limits_.max_body_bytes) + " bytes"));
    }
    if (ec == http::error::header_limit) {
      return answer(json_error(
          431, "header_too_large",
          "request headers are larger than the limit of " + std::to_string(limits_.max_header_bytes) + " bytes"));
    }
    if (ec == http::error::partial_message) {
      return answer(json_error(400, "bad_request", "the connection was closed before the request was complete"));
    }
    answer(json_error(400, "bad_request",
                      "bad request: malformed request line, headers or body framing (" + ec.message() + ")"));
  }

  // The decoded path of the request being read, if its target is known and decodes ("" else).
  std::string target_path() const {
    if (!parser_) return "";
    std::string path, error;
    QueryParams ignored;
    const auto target = parser_->get().target();
    return parse_target(std::string_view(target.data(), target.size()), &path, &ignored, &error) ? path : "";
  }

  void dispatch() {
    http::request<http::string_body> message = parser_->release();
    auto request = std::make_shared<HttpRequest>();
    request->method = std::string(message.method_string());
    version_ = message.version();
    keep_alive_ = message.keep_alive() && ++requests_ < limits_.max_requests_per_connection;
    std::string error;
    const auto target = message.target();
    const bool target_ok =
        parse_target(std::string_view(target.data(), target.size()), &request->path, &request->query, &error);
    path_ = request->path;
    if (!target_ok) return answer(json_error(400, "bad_request", error));
    for (const auto& field : message) request->headers.emplace_back(field.name_string(), field.value());
    request->body = std::move(message.body());
    if (server_.stopping && !in_flight_at_stop_) {
      return answer(json_error(503, "shutting_down", "the server is shutting down; retry on another instance"));
    }
    if (server_.inline_route && server_.inline_route(request->method, request->path)) {
      return answer(run_handler(server_.handler, *request, -1));
    }
    state_ = State::kHandling;
    auto job = [self = shared_from_this(), request](int worker) mutable {
      HttpResponse response = run_handler(self->server_.handler, *request, worker);
      request.reset();
      HttpServer::Impl& server = self->server_;
      asio::post(server.ioc, [self = std::move(self), response = std::move(response)]() mutable {
        self->answer(std::move(response));
      });
    };
    if (!server_.pool.try_submit(std::move(job))) {
      HttpResponse busy =
          json_error(503, "overloaded", "server busy: all workers are taken and the queue is full; retry later");
      busy.headers.emplace_back("Retry-After", "1");
      answer(std::move(busy));
    }
  }

  // Reports an answer to the observer (once per request).
  void report(const HttpResponse& response) {
    const double seconds = started_ ? std::chrono::duration<double>(Clock::now() - headers_at_).count() : -1.0;
    started_ = false;
    server_.answered(path_, response, seconds);
  }

  void answer(HttpResponse response) {
    if (state_ == State::kClosed) return;  // closed at the drain deadline
    report(response);
    if (server_.stopping) keep_alive_ = false;
    auto message = std::make_shared<http::response<http::string_body>>();
    message->version(version_ == 10 ? 10 : 11);
    message->result(static_cast<unsigned>(response.status));
    message->set(http::field::content_type, response.content_type);
    for (const auto& [name, value] : response.headers) message->set(name, value);
    message->body() = std::move(response.body);
    message->keep_alive(keep_alive_);
    message->prepare_payload();
    state_ = State::kWriting;
    arm(limits_.write_deadline);
    http::async_write(socket_, *message, [self = shared_from_this(), message](beast::error_code ec, std::size_t) {
      self->on_written(ec);
    });
  }

  void on_written(beast::error_code ec) {
    disarm();
    if (ec || state_ == State::kClosed) return close();
    if (keep_alive_ && !server_.stopping) return wait_for_request();
    linger();
  }

  // Keep-alive: the next request must start within the idle timeout.
  void wait_for_request() {
    if (buffer_.size() > 0) return read_request();  // pipelined
    state_ = State::kIdle;
    arm(limits_.keep_alive_idle);
    socket_.async_wait(tcp::socket::wait_read, [self = shared_from_this()](beast::error_code ec) {
      if (ec || self->state_ != State::kIdle) return;
      self->read_request();
    });
  }

  // Half-closes and drops what the client still sends (bounded), then closes: closing with
  // unread input would reset the connection and could destroy our answer before it is read.
  void linger() {
    state_ = State::kLingering;
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return close();
    arm(kLingerTime);
    discard();
  }
  void discard() {
    socket_.async_read_some(asio::buffer(server_.discard_buffer),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->discarded_ += n;
                              if (ec || self->state_ != State::kLingering || self->discarded_ > kMaxLingerBytes) {
                                return self->close();
                              }
                              self->discard();
                            });
  }

  HttpServer::Impl& server_;
  const HttpLimits& limits_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  unsigned timer_generation_ = 0;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  State state_ = State::kReading;
  bool timed_out_ = false, started_ = false, keep_alive_ = false;
  bool in_flight_at_stop_ = false;  // its headers arrived before stop(): answered normally
  unsigned version_ = 11;
  std::size_t requests_ = 0, discarded_ = 0;
  std::string path_;
  Clock::time_point headers_at_;
};

}  // namespace

void HttpServer::Impl::accept() {
  acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (!ec) start_connection(std::move(socket));
    if (!acceptor.is_open() || stopping) return;
    if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space) {
      // Out of file descriptors: wait for connections to close rather than spin.
      accept_retry.expires_after(std::chrono::milliseconds(50));
      accept_retry.async_wait([this](beast::error_code e) {
        if (!e && !stopping) accept();
      });
      return;
    }
    accept();
  });
}

void HttpServer::Impl::start_connection(tcp::socket socket) {
  if (connections.size() >= limits.max_connections) return refuse_connection(socket);
  beast::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  std::make_shared<Connection>(*this, std::move(socket))->start();
}

// Beyond max_connections: a 503 written without waiting (it fits the socket buffer), then close.
void HttpServer::Impl::refuse_connection(tcp::socket& socket) {
  HttpResponse busy =
      json_error(503, "overloaded",
                 "server busy: " + std::to_string(limits.max_connections) + " connections are open; retry later");
  answered("", busy, -1.0);
  const std::string text =
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
      "Connection: close\r\nContent-Length: " +
      std::to_string(busy.body.size()) + "\r\n\r\n" + busy.body;
  beast::error_code ec;
  socket.non_blocking(true, ec);
  socket.write_some(asio::buffer(text), ec);
  socket.shutdown(tcp::socket::shutdown_send, ec);
  socket.close(ec);
}

void HttpServer::Impl::begin_drain() {
  if (stopping) return;
  stopping = true;
  drain_timer.expires_after(limits.drain_deadline);
  drain_timer.async_wait([this](beast::error_code ec) {
    if (!ec) force_finish();
  });
  // Connections the kernel has already accepted are clients too: take them, then stop listening.
  beast::error_code ec;
  acceptor.non_blocking(true, ec);
  while (!ec && acceptor.is_open()) {
    tcp::socket socket(ioc);
    acceptor.accept(socket, ec);
    if (!ec) start_connection(std::move(socket));
  }
  acceptor.close(ec);
  accept_retry.cancel();
  std::vector<std::shared_ptr<Connection>> open;
  for (Connection* c : connections) open.push_back(c->shared_from_this());
  for (const auto& c : open) c->drain();
  open.clear();
  if (connections.empty()) finish();
}

void HttpServer::Impl::finish() {
  if (finished) return;
  finished = true;
  drain_timer.cancel();
  guard.reset();  // run() returns once the last handlers are done
}

// The drain deadline passed: whatever is still open is closed.
void HttpServer::Impl::force_finish() {
  std::vector<std::shared_ptr<Connection>> open;
  for (Connection* c : connections) open.push_back(c->shared_from_this());
  for (const auto& c : open) c->close();
  finished = true;
  ioc.stop();
}

void HttpServer::Impl::connection_closed(Connection* connection) {
  connections.erase(connection);
  if (stopping && !finished && connections.empty()) finish();
}

HttpServer::HttpServer(const HttpLimits& limits, int workers, Handler handler, InlineRoute inline_route,
                       Observer observer)
    : impl_(std::make_unique<Impl>(limits, workers, std::move(handler), std::move(inline_route), std::move(observer))) {
}

HttpServer::~HttpServer() = default;

int HttpServer::bind(const std::string& host, int port) {
  const auto fail = [&](const beast::error_code& ec) {
    return std::runtime_error("cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message());
  };
  beast::error_code ec;
  tcp::resolver resolver(impl_->ioc);
  const auto endpoints = resolver.resolve(host, std::to_string(port), tcp::resolver::passive, ec);
  if (ec) throw fail(ec);
  if (endpoints.empty()) throw fail(asio::error::host_not_found);
  const tcp::endpoint endpoint = endpoints.begin()->endpoint();
  tcp::acceptor& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  // SO_REUSEADDR only (TIME_WAIT restarts): never SO_REUSEPORT, so a second server fails to bind.
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    beast::error_code ignored;
    acceptor.close(ignored);
    throw fail(ec);
  }
  return acceptor.local_endpoint().port();
}

void HttpServer::run() {
  impl_->accept();
  impl_->ioc.run();
  impl_->finished = true;
  impl_->pool.shutdown();
}

void HttpServer::stop() {
  asio::post(impl_->ioc, [impl = impl_.get()] { impl->begin_drain(); });
}

}  // namespace micronet_ad::host
