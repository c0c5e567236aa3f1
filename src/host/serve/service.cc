#include "host/serve/service.h"

#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/audio/audio_file.h"
#include "host/detect/clip_json.h"
#include "host/detect/clip_scorer.h"
#include "host/io/model_info.h"
#include "host/serve/metrics.h"

namespace micronet_ad::host {
namespace {

using Clock = std::chrono::steady_clock;

// Per-thread request state: httplib runs a request from routing to logging on one thread.
struct RequestState {
  Clock::time_point start;
  bool started = false;
  std::string error_kind;  // set by the handler that answered with an error
};
thread_local RequestState t_request;
thread_local int t_worker = -1;      // index of this worker's ClipScorer
thread_local bool t_reject = false;  // the overflow thread: answer 503 to everything

// httplib's TaskQueue with a bound: `workers` threads take accepted connections from a queue of
// at most `max_queue`; connections beyond it go to one overflow thread that answers 503.
class BoundedTaskQueue final : public httplib::TaskQueue {
 public:
  BoundedTaskQueue(int workers, std::size_t max_queue) : max_queue_(max_queue), idle_(static_cast<std::size_t>(workers)) {
    for (int i = 0; i < workers; ++i) {
      threads_.emplace_back([this, i] {
        t_worker = i;
        work(jobs_, jobs_ready_, true);
      });
    }
    threads_.emplace_back([this] {
      t_reject = true;
      work(overflow_, overflow_ready_, false);
    });
  }

  void enqueue(std::function<void()> fn) override {
    std::unique_lock<std::mutex> lock(mutex_);
    // Idle workers take a connection at once; beyond them at most max_queue_ wait.
    if (jobs_.size() < max_queue_ + idle_) {
      jobs_.push_back(std::move(fn));
      lock.unlock();
      jobs_ready_.notify_one();
    } else {
      overflow_.push_back(std::move(fn));  // answered quickly; bounded by the open-file limit
      lock.unlock();
      overflow_ready_.notify_one();
    }
  }

  // Runs every queued connection, then joins: in-flight requests finish.
  void shutdown() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      shutdown_ = true;
    }
    jobs_ready_.notify_all();
    overflow_ready_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

 private:
  // A worker is idle from its creation (even before its thread first runs) until it takes a
  // connection, and again once it is done with it.
  void work(std::deque<std::function<void()>>& queue, std::condition_variable& ready, bool counts_as_worker) {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        ready.wait(lock, [&] { return !queue.empty() || shutdown_; });
        if (queue.empty()) return;
        job = std::move(queue.front());
        queue.pop_front();
        if (counts_as_worker) --idle_;
      }
      job();
      if (counts_as_worker) {
        std::lock_guard<std::mutex> lock(mutex_);
        ++idle_;
      }
    }
  }

  const std::size_t max_queue_;
  std::size_t idle_;  // workers not busy with a connection
  std::mutex mutex_;
  std::condition_variable jobs_ready_, overflow_ready_;
  std::deque<std::function<void()>> jobs_, overflow_;
  bool shutdown_ = false;
  std::vector<std::thread> threads_;
};

// httplib listens with a backlog of 5: bursts of connections beyond it have their SYN dropped and
// retried a second later. Listening again on the bound socket raises the backlog (Linux).
class Server final : public httplib::Server {
 public:
  void raise_backlog() { ::listen(svr_sock_, SOMAXCONN); }
};

// Endpoint label for the metrics: the known routes, everything else "other" (bounded labels).
std::string endpoint_label(const std::string& path) {
  for (const char* known : {"/v1/score", "/v1/model", "/healthz", "/metrics"}) {
    if (path == known) return known;
  }
  return "other";
}

// The kind of an error httplib answered by itself (the request never reached a handler).
const char* kind_for_status(int status) {
  switch (status) {
    case 400: return "bad_request";
    case 404: return "not_found";
    case 413: return "body_too_large";
    case 414: return "uri_too_long";
    case 416: return "bad_range";
    case 503: return "overloaded";
    default: return status >= 500 ? "internal" : "client_error";
  }
}

// Messages for the errors httplib answers by itself.
const char* status_reason(int status) {
  switch (status) {
    case 400: return "bad request: the request line or headers could not be parsed";
    case 404: return "not found: the endpoints are POST /v1/score, GET /v1/model, GET /healthz, GET /metrics";
    case 413: return "request body too large";
    case 414: return "request URI too long";
    case 416: return "bad Range header";
    default: return "request failed";
  }
}

std::string error_body(int status, const std::string& kind, const std::string& message) {
  return nlohmann::ordered_json{{"error", message}, {"kind", kind}, {"status", status}}.dump() + "\n";
}

void answer_error(httplib::Response& res, int status, const std::string& kind, const std::string& message) {
  t_request.error_kind = kind;
  res.status = status;
  res.set_content(error_body(status, kind, message), "application/json");
}

void answer_json(httplib::Response& res, const std::string& json) {
  res.status = 200;
  res.set_content(json, "application/json");
}

int audio_error_status(AudioError::Kind kind) {
  switch (kind) {
    case AudioError::Kind::kNotAudio: return 415;
    case AudioError::Kind::kTooLong: return 413;
    default: return 400;
  }
}

}  // namespace

void parse_listen_address(const std::string& text, std::string* host, int* port) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    throw std::invalid_argument("--listen '" + text + "': expected HOST:PORT, e.g. 127.0.0.1:8080");
  }
  std::string h = text.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);  // [::1]
  const std::string p = text.substr(colon + 1);
  if (p.find_first_not_of("0123456789") != std::string::npos || p.size() > 5 || std::stoi(p) > 65535) {
    throw std::invalid_argument("--listen '" + text + "': port '" + p + "' is not a number in 0..65535");
  }
  *host = h;
  *port = std::stoi(p);
}

struct Service::Impl {
  Impl(const ModelFile& m, std::optional<ThresholdSet> t, const ServiceConfig& c)
      : model(m), thresholds(std::move(t)), config(c) {}

  void handle_score(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader);
  std::string model_json() const;
  void install_routes();

  const ModelFile& model;
  const std::optional<ThresholdSet> thresholds;
  const ServiceConfig config;
  int workers = 1;
  std::vector<std::unique_ptr<ClipScorer>> scorers;  // one per worker thread
  ServiceMetrics metrics;
  Server server;
  int port = -1;
};

std::string Service::Impl::model_json() const {
  nlohmann::json j = model_info_json(model);
  j["framing"] = to_string(config.framing);
  j["resize"] = to_string(config.resize);
  j["workers"] = workers;
  j["limits"] = {{"max_body_bytes", config.max_body_bytes},
                 {"max_seconds", config.max_seconds},
                 {"read_timeout_seconds", config.read_timeout_seconds},
                 {"write_timeout_seconds", config.write_timeout_seconds},
                 {"max_queue", config.max_queue}};
  if (thresholds) {
    nlohmann::json machines = nlohmann::json::object();
    for (const auto& [id, t] : thresholds->machines) machines[id] = t.threshold;
    j["thresholds"] = {{"score_kind", to_string(thresholds->score_kind)}, {"machines", machines}};
  }
  return j.dump(2) + "\n";
}

void Service::Impl::handle_score(const httplib::Request& req, httplib::Response& res,
                                 const httplib::ContentReader& reader) {
  // The body is always read (or skipped by httplib when too large) before answering, so the
  // client reads our answer instead of a connection reset.
  std::string body;
  // A request with neither Content-Length nor Transfer-Encoding has no body (RFC 9112 §6.3);
  // httplib would wait for the connection to close instead.
  const bool has_body = req.has_header("Content-Length") || req.has_header("Transfer-Encoding");
  const bool body_ok = !has_body || reader([&](const char* data, std::size_t size) {
    body.append(data, size);
    return true;
  });
  if (!body_ok) {
    if (res.status == 413) {
      answer_error(res, 413, "body_too_large",
                   "request body is larger than the limit of " + std::to_string(config.max_body_bytes) + " bytes");
    } else {
      answer_error(res, 400, "bad_body", "request body could not be read (truncated or malformed transfer)");
    }
    return;
  }
  if (t_reject) {
    answer_error(res, 503, "overloaded", "server busy: all workers are taken and the queue is full; retry later");
    res.set_header("Retry-After", "1");
    return;
  }
  if (!req.has_param("machine_id")) {
    answer_error(res, 400, "missing_machine_id", "query parameter machine_id is required (00, 02, 04 or 06)");
    return;
  }
  const std::string machine_id = req.get_param_value("machine_id");
  int output_index = -1;
  if (const Status s = output_of_machine_id(machine_id.c_str(), &output_index); !s) {
    answer_error(res, 400, "unknown_machine_id", "machine_id '" + machine_id + "': " + s.message());
    return;
  }
  const std::string name = req.has_param("name") ? req.get_param_value("name") : "-";
  Audio audio;
  try {
    AudioLoadOptions options;
    options.max_seconds = config.max_seconds;
    audio = load_audio_memory(body.data(), body.size(), "request body", options);
  } catch (const AudioError& e) {
    const std::string kind = e.kind() == AudioError::Kind::kEmpty ? "empty_body" : to_string(e.kind());
    answer_error(res, audio_error_status(e.kind()), kind, e.what());
    return;
  }
  body = std::string();  // free the upload before scoring
  ClipResult result = scorers[static_cast<std::size_t>(t_worker)]->score(audio.samples, output_index);
  metrics.clip_scored(result.clip.windows);
  nlohmann::ordered_json j = clip_json(name, output_index, result);
  j["seconds"] = audio.duration_seconds();
  if (thresholds) {
    const std::string key = std::string("id_") + machine_id_of_output(output_index);
    const auto it = thresholds->machines.find(key);
    if (it != thresholds->machines.end()) {
      const double value = result.clip[thresholds->score_kind];
      j["threshold"] = it->second.threshold;
      j["score_kind"] = to_string(thresholds->score_kind);
      j["decision"] = value > it->second.threshold ? "anomalous" : "normal";
    }
  }
  answer_json(res, j.dump() + "\n");
}

void Service::Impl::install_routes() {
  // Runs on every parsed request before routing: the latency clock starts here.
  server.set_pre_routing_handler([this](const httplib::Request&, httplib::Response&) {
    t_request = RequestState{Clock::now(), true, ""};
    metrics.request_started();
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // Every error answer gets a JSON body; httplib's own (400 unparsable, 404, 413) get one here.
  server.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) {
      const char* kind = kind_for_status(res.status);
      t_request.error_kind = kind;
      res.set_content(error_body(res.status, kind, status_reason(res.status)),
                      "application/json");
    }
    return httplib::Server::HandlerResponse::Handled;
  }));
  // Called once per answer just before it is written (the logger would run after: a client
  // could then read /metrics before its own request was counted).
  server.set_post_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    const double seconds = t_request.started ? std::chrono::duration<double>(Clock::now() - t_request.start).count() : -1.0;
    metrics.request_finished(endpoint_label(req.path), res.status, seconds);
    if (res.status >= 400) {
      metrics.error(t_request.error_kind.empty() ? kind_for_status(res.status) : t_request.error_kind);
    }
    t_request = RequestState{};
  });
  server.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr error) {
    std::string what = "unknown error";
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    answer_error(res, 500, "internal", "internal error: " + what);
  });

  // GET handlers answer 503 from the overflow thread too, so an overload is visible everywhere.
  auto get = [this](const char* path, std::function<void(httplib::Response&)> answer) {
    server.Get(path, [answer](const httplib::Request&, httplib::Response& res) {
      if (t_reject) {
        answer_error(res, 503, "overloaded", "server busy: all workers are taken and the queue is full; retry later");
        res.set_header("Retry-After", "1");
        return;
      }
      answer(res);
    });
  };
  get("/healthz", [](httplib::Response& res) { answer_json(res, "{\"status\":\"ok\"}\n"); });
  const std::string info = model_json();
  get("/v1/model", [info](httplib::Response& res) { answer_json(res, info); });
  get("/metrics", [this](httplib::Response& res) {
    res.status = 200;
    res.set_content(metrics.prometheus_text(), "text/plain; version=0.0.4");
  });
  server.Post("/v1/score", [this](const httplib::Request& req, httplib::Response& res,
                                  const httplib::ContentReader& reader) { handle_score(req, res, reader); });
}

Service::Service(const ModelFile& model, std::optional<ThresholdSet> thresholds, const ServiceConfig& config)
    : impl_(std::make_unique<Impl>(model, std::move(thresholds), config)) {
  Impl& s = *impl_;
  s.workers = config.workers > 0 ? config.workers : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 0; i < s.workers; ++i) s.scorers.push_back(std::make_unique<ClipScorer>(model.model, config.framing, config.resize));
  const int workers = s.workers;
  const std::size_t max_queue = config.max_queue;
  s.server.new_task_queue = [workers, max_queue] { return new BoundedTaskQueue(workers, max_queue); };
  s.server.set_payload_max_length(config.max_body_bytes);
  s.server.set_read_timeout(config.read_timeout_seconds, 0);
  s.server.set_write_timeout(config.write_timeout_seconds, 0);
  s.server.set_keep_alive_max_count(1);  // one request per connection (see service.h)
  s.server.set_keep_alive_timeout(config.read_timeout_seconds);  // the wait for a request line
  s.install_routes();
}

Service::~Service() = default;

int Service::bind() {
  Impl& s = *impl_;
  const bool ok = s.config.port == 0 ? (s.port = s.server.bind_to_any_port(s.config.host)) > 0
                                     : s.server.bind_to_port(s.config.host, s.config.port);
  if (!ok) {
    throw std::runtime_error("cannot listen on " + s.config.host + ":" + std::to_string(s.config.port) + ": " +
                             std::strerror(errno) + " (address in use, not local, or not permitted?)");
  }
  if (s.config.port != 0) s.port = s.config.port;
  s.server.raise_backlog();
  return s.port;
}

bool Service::run() { return impl_->server.listen_after_bind(); }

void Service::stop() { impl_->server.stop(); }

int Service::workers() const { return impl_->workers; }

std::string Service::metrics_text() const { return impl_->metrics.prometheus_text(); }

}  // namespace micronet_ad::host
