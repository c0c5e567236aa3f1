// The HTTP scoring service behind `micronet-ad serve` (its HTTP layer: host/serve/http_server.h):
//
//   POST   /v1/score?machine_id=00[&name=clip.wav]  body: an audio file → the clip JSON `score
//                                                   --format json` prints (+ decision/threshold)
//   POST   /v1/score?machine=NAME[&name=clip.wav]   the same scored by distance from enrolled
//                                                   machine NAME's profile, with its threshold
//                                                   and the decision (404 unknown_machine)
//   PUT    /v1/machines/NAME[?rank=R&quantile=Q]    enrols NAME: body a profile file (.mnprof,
//                                                   made for this model and front end), or
//                                                   multipart/form-data of ≥ 2 normal clips to
//                                                   fit one on (rank: 0 full, compact or 1..D;
//                                                   quantile: 0.5..1) → 201 new / 200 replaced,
//                                                   with the machine's metadata
//   GET    /v1/machines                             → {"machines": [metadata, ...]} by name
//   GET    /v1/machines/NAME                        → the machine's metadata
//   DELETE /v1/machines/NAME                        → {"deleted": NAME}
//   GET    /v1/model                                → what `inspect --json` prints
//   GET    /healthz                                 → {"status":"ok"}
//   GET    /metrics                                 → Prometheus text (host/serve/metrics.h)
//
// Metadata: {name, clips, windows, rank, embedding_size, threshold, threshold_quantile,
// shrinkage, bytes, model_sha1, framing, resize} (+ warning from a fit). Machines need a profile
// directory (ServiceConfig::profile_dir, `serve --profile DIR`; else PUT answers 409): its
// <name>.mnprof files are loaded at start-up and PUT writes them atomically before the new
// profile goes live (host/serve/machines.h); a request scores with the old or the new one, whole.
//
// Every error is a JSON body {"error": message, "kind": kind, "status": code}. Limits: body
// size for every transfer encoding (413 body_too_large), audio duration per clip (413 too_long),
// clips per enrolment (413 too_many_clips), a deadline for each request's headers and body (408
// request_timeout), keep-alive with an idle timeout and a cap on requests per connection, at
// most max_connections open connections, and a bounded pool: `workers` threads, each with its own
// ClipScorer (it is not thread-safe), and at most `max_queue` complete requests waiting beyond
// the idle workers; further ones are answered 503 (kind "overloaded") at once. Only complete
// requests reach a worker, so slow clients never hold one; /healthz and /metrics are answered by
// the I/O thread even while every worker is busy. A query parameter an endpoint does not take is
// a 400 unknown_parameter. Enrolment runs on the worker that took the request, with its
// ClipScorer, one clip at a time. stop() drains (see http_server.h): every accepted request is
// answered, 200 or 503 shutting_down, within drain_timeout_seconds.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "host/eval/thresholds.h"
#include "host/io/model_file.h"
#include "micronet_ad/frontend.h"
#include "micronet_ad/interpreter.h"

namespace micronet_ad::host {

struct ServiceConfig {
  std::string host = "127.0.0.1";
  int port = 8080;             // 0: any free port (bind() returns it)
  int workers = 0;             // 0: one per core
  std::size_t max_queue = 64;  // complete requests waiting for a worker
  std::size_t max_body_bytes = std::size_t(32) << 20;
  double max_seconds = 120.0;             // of audio per clip
  double request_timeout_seconds = 10.0;  // headers + body of one request
  double write_timeout_seconds = 5.0;     // one answer
  double keep_alive_seconds = 5.0;        // idle wait for a connection's next request
  double drain_timeout_seconds = 10.0;    // stop(): the longest wait for requests in flight
  std::size_t max_requests_per_connection = 100;
  std::size_t max_connections = 512;
  Framing framing = Framing::kCentered;
  Resize resize = Resize::kAverage;
  KernelSet kernels = KernelSet::kAuto;  // every set gives the same bytes
  std::string profile_dir;               // machine profiles (created if missing); empty: no machines
  std::size_t max_enrol_clips = 64;      // clips in one enrolment upload
};

// "127.0.0.1:8080", "localhost:0", "[::1]:8080" → host and port. Throws std::invalid_argument.
void parse_listen_address(const std::string& text, std::string* host, int* port);

class Service {
 public:
  // `model` must outlive the service. Thresholds (optional) add a decision to /v1/score answers
  // for the machine IDs they cover. Loads config.profile_dir's profiles: throws
  // std::runtime_error naming a file that is not a valid profile for this model and front end.
  Service(const ModelFile& model, std::optional<ThresholdSet> thresholds, const ServiceConfig& config);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Binds the listening socket (exclusively); returns the port (the actual one for port 0). Throws
  // std::runtime_error "cannot listen on HOST:PORT: <reason>" on failure.
  int bind();
  // Serves until stop(); returns once every accepted request has been answered (or the drain
  // deadline has passed).
  void run();
  // Thread-safe and idempotent, also before run(): stops accepting; run() then drains.
  void stop();

  int workers() const;
  std::size_t machines() const;  // machines with a profile now

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace micronet_ad::host
