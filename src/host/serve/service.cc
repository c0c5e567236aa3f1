#include "host/serve/service.h"

#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
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
#include "host/detect/enrolment.h"
#include "host/detect/judge.h"
#include "host/io/model_info.h"
#include "host/io/sha1.h"
#include "host/serve/machines.h"
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
  for (const char* known : {"/v1/score", "/v1/model", "/healthz", "/metrics", "/v1/machines"}) {
    if (path == known) return known;
  }
  if (path.rfind("/v1/machines/", 0) == 0) return "/v1/machines/{name}";
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
    case 404:
      return "not found: the endpoints are POST /v1/score, GET /v1/machines, PUT/GET/DELETE /v1/machines/NAME, "
             "GET /v1/model, GET /healthz, GET /metrics";
    case 413: return "request body too large";
    case 414: return "request URI too long";
    case 416: return "bad Range header";
    default: return "request failed";
  }
}

// JSON text; request-supplied strings that are not UTF-8 become U+FFFD instead of an exception.
std::string dump(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

std::string error_body(int status, const std::string& kind, const std::string& message,
                       const nlohmann::ordered_json& extra = {}) {
  nlohmann::ordered_json j{{"error", message}, {"kind", kind}, {"status", status}};
  if (extra.is_object()) j.update(extra);
  return dump(j);
}

void answer_error(httplib::Response& res, int status, const std::string& kind, const std::string& message,
                  const nlohmann::ordered_json& extra = {}) {
  t_request.error_kind = kind;
  res.status = status;
  res.set_content(error_body(status, kind, message, extra), "application/json");
}

// The overflow thread answers 503 to every request; true when it just did.
bool answered_overloaded(httplib::Response& res) {
  if (!t_reject) return false;
  answer_error(res, 503, "overloaded", "server busy: all workers are taken and the queue is full; retry later");
  res.set_header("Retry-After", "1");
  return true;
}

void answer_json(httplib::Response& res, const std::string& json, int status = 200) {
  res.status = status;
  res.set_content(json, "application/json");
}

// At most `max` characters of a request-supplied string, for an error message.
std::string quoted(const std::string& text, std::size_t max = 64) {
  return "'" + (text.size() <= max ? text : text.substr(0, max) + "...") + "'";
}

// "a, b, c" of the first `max` names, then how many in all.
std::string name_list(const std::vector<std::string>& names, std::size_t max) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < max; ++i) out += (i == 0 ? "" : ", ") + names[i];
  if (names.size() > max) out += ", ... (" + std::to_string(names.size()) + " in all)";
  return out;
}

// A machine's metadata, as GET /v1/machines lists it.
nlohmann::ordered_json machine_json(const ProfileFile& file) {
  const ProfileHeader& h = file.profile().header();
  Sha1::Digest sha1;
  std::copy(std::begin(h.model_sha1), std::end(h.model_sha1), sha1.begin());
  return {{"name", file.name()},
          {"clips", h.clips},
          {"windows", h.windows},
          {"rank", h.rank},
          {"embedding_size", h.embedding_size},
          {"threshold", h.threshold},
          {"threshold_quantile", h.threshold_quantile},
          {"shrinkage", h.shrinkage},
          {"bytes", file.bytes().size()},
          {"model_sha1", to_hex(sha1)},
          {"framing", to_string(h.framing)},
          {"resize", to_string(h.resize)}};
}

// One part of a multipart/form-data upload.
struct UploadPart {
  std::string label;  // "part 2 ('b.wav')": starts every error about it
  std::string bytes;
};

std::string part_label(std::size_t index, const httplib::MultipartFormData& part) {
  const std::string& given = !part.filename.empty() ? part.filename : part.name;
  return "part " + std::to_string(index) + (given.empty() ? "" : " (" + quoted(given, 48) + ")");
}

// `rank`: 0 or "full" (k = D, the default), "compact" (kCompactRank) or 1..D.
bool parse_rank(const std::string& text, std::uint32_t d, std::uint32_t* rank) {
  if (text == "full") return (*rank = 0), true;
  if (text == "compact") return (*rank = std::min(kCompactRank, d)), true;
  if (text.empty() || text.size() > 5 || text.find_first_not_of("0123456789") != std::string::npos) return false;
  *rank = static_cast<std::uint32_t>(std::stoul(text));
  return *rank <= d;
}

// `quantile`: a number in [0.5, 1] (as `enrol --quantile`).
bool parse_quantile(const std::string& text, double* quantile) {
  if (text.empty() || text.size() > 32) return false;
  char* end = nullptr;
  *quantile = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && std::isfinite(*quantile) && *quantile >= 0.5 && *quantile <= 1.0;
}

bool starts_with_profile_magic(const std::string& body) { return body.rfind("MNADPROF", 0) == 0; }

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
      : model(m), model_sha1(sha1_hex(m.bytes(), m.model.size())), thresholds(std::move(t)), config(c) {
    if (!config.profile_dir.empty())
      machines = std::make_unique<MachineProfiles>(config.profile_dir, model_sha1, config.framing, config.resize);
    metrics.set_machines(static_cast<std::int64_t>(machines ? machines->size() : 0));
  }

  bool read_body(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader,
                 std::string* body, std::vector<UploadPart>* parts);
  bool decode(const std::string& bytes, const std::string& label, const char* empty_kind, httplib::Response& res,
              Audio* audio) const;
  void answer_unknown_machine(const std::string& name, httplib::Response& res) const;
  std::shared_ptr<const ProfileFile> find_machine(const std::string& name, httplib::Response& res) const;
  bool enrol_parts(std::vector<UploadPart>& parts, const std::string& name, const EnrolSettings& settings,
                   httplib::Response& res, FitResult* fit);
  void handle_score(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader);
  void handle_put_machine(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader);
  void handle_get_machine(const std::string& name, httplib::Response& res) const;
  void handle_list_machines(httplib::Response& res) const;
  void handle_delete_machine(const std::string& name, httplib::Response& res);
  std::string model_json() const;
  void install_routes();

  const ModelFile& model;
  const std::string model_sha1;
  const std::optional<ThresholdSet> thresholds;
  const ServiceConfig config;
  const Judge distance_judge{ScoreMethod::kDistance};  // thresholds from the profiles
  std::unique_ptr<MachineProfiles> machines;            // with a profile directory
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
                 {"max_queue", config.max_queue},
                 {"max_enrol_clips", config.max_enrol_clips}};
  if (thresholds) {
    nlohmann::json machines = nlohmann::json::object();
    for (const auto& [id, t] : thresholds->machines) machines[id] = t.threshold;
    j["thresholds"] = {{"score_kind", to_string(thresholds->score_kind)}, {"machines", machines}};
  }
  j["profile_dir"] = config.profile_dir.empty() ? nlohmann::json() : nlohmann::json(config.profile_dir);
  return j.dump(2) + "\n";
}

// Reads the whole body into `body`, or a multipart/form-data one into `parts` when given, before
// anything is answered, so the client reads our answer instead of a connection reset (httplib
// skips a body over the limit). False once an error is answered; the overflow thread answers 503.
bool Service::Impl::read_body(const httplib::Request& req, httplib::Response& res,
                              const httplib::ContentReader& reader, std::string* body,
                              std::vector<UploadPart>* parts) {
  // A request with neither Content-Length nor Transfer-Encoding has no body (RFC 9112 §6.3);
  // httplib would wait for the connection to close instead.
  const bool has_body = req.has_header("Content-Length") || req.has_header("Transfer-Encoding");
  const bool multipart = has_body && req.is_multipart_form_data();
  bool ok = true;
  if (multipart) {
    // httplib parses the parts (the whole body counts against the size limit); a form posted
    // where one file is expected gets its parts dropped and a clear error below.
    ok = reader(
        [&](const httplib::MultipartFormData& part) {
          if (parts) parts->push_back({part_label(parts->size() + 1, part), {}});
          return true;
        },
        [&](const char* data, std::size_t size) {
          if (parts && !parts->empty()) parts->back().bytes.append(data, size);
          return true;
        });
  } else if (has_body) {
    ok = reader([&](const char* data, std::size_t size) {
      body->append(data, size);
      return true;
    });
  }
  if (!ok) {
    if (res.status == 413) {
      answer_error(res, 413, "body_too_large",
                   "request body is larger than the limit of " + std::to_string(config.max_body_bytes) + " bytes");
    } else if (multipart) {
      answer_error(res, 400, "bad_body", "request body could not be read as multipart/form-data (malformed or truncated)");
    } else {
      answer_error(res, 400, "bad_body", "request body could not be read (truncated or malformed transfer)");
    }
    return false;
  }
  if (answered_overloaded(res)) return false;
  if (multipart && parts == nullptr) {
    answer_error(res, 415, "not_audio",
                 "request body is a multipart/form-data form: send the audio file itself as the body "
                 "(curl --data-binary @clip.wav)");
    return false;
  }
  return true;
}

// Decodes an audio file's bytes with the service's limits. False once an error is answered.
bool Service::Impl::decode(const std::string& bytes, const std::string& label, const char* empty_kind,
                           httplib::Response& res, Audio* audio) const {
  try {
    AudioLoadOptions options;
    options.max_seconds = config.max_seconds;
    *audio = load_audio_memory(bytes.data(), bytes.size(), label, options);
    return true;
  } catch (const AudioError& e) {
    const std::string kind = e.kind() == AudioError::Kind::kEmpty ? empty_kind : to_string(e.kind());
    answer_error(res, audio_error_status(e.kind()), kind, e.what());
    return false;
  }
}

// 404, naming the machines there are (bounded).
void Service::Impl::answer_unknown_machine(const std::string& name, httplib::Response& res) const {
  constexpr std::size_t kListed = 50;
  const std::vector<std::string> names = machines ? machines->names() : std::vector<std::string>();
  nlohmann::ordered_json listed = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < names.size() && i < kListed; ++i) listed.push_back(names[i]);
  std::string message = "unknown machine " + quoted(name);
  if (!machines) {
    message += ": this server has no machine profiles (start it with --profile DIR)";
  } else if (names.empty()) {
    message += ": no machine is enrolled yet (PUT /v1/machines/NAME)";
  } else {
    message += " (enrolled: " + name_list(names, 10) + ")";
  }
  answer_error(res, 404, "unknown_machine", message, {{"machines", listed}, {"machines_total", names.size()}});
}

// The machine's profile now, or nullptr once a 404 is answered.
std::shared_ptr<const ProfileFile> Service::Impl::find_machine(const std::string& name, httplib::Response& res) const {
  std::shared_ptr<const ProfileFile> file = machines ? machines->find(name) : nullptr;
  if (!file) answer_unknown_machine(name, res);
  return file;
}

void Service::Impl::handle_score(const httplib::Request& req, httplib::Response& res,
                                 const httplib::ContentReader& reader) {
  std::string body;
  if (!read_body(req, res, reader, &body, nullptr)) return;
  int output_index = -1;
  std::shared_ptr<const ProfileFile> profile;  // ?machine=NAME: a snapshot, whatever replaces it
  if (req.has_param("machine")) {
    if (req.has_param("machine_id")) {
      answer_error(res, 400, "conflicting_machine",
                   "give either machine (an enrolled machine: distance from its profile) or machine_id (the "
                   "model's machine ID output), not both");
      return;
    }
    profile = find_machine(req.get_param_value("machine"), res);
    if (!profile) return;
  } else {
    if (!req.has_param("machine_id")) {
      answer_error(res, 400, "missing_machine_id",
                   "query parameter machine_id is required (00, 02, 04 or 06), or machine=NAME for an enrolled "
                   "machine");
      return;
    }
    const std::string machine_id = req.get_param_value("machine_id");
    if (const Status s = output_of_machine_id(machine_id.c_str(), &output_index); !s) {
      answer_error(res, 400, "unknown_machine_id", "machine_id " + quoted(machine_id) + ": " + s.message());
      return;
    }
  }
  const std::string name = req.has_param("name") ? req.get_param_value("name") : "-";
  Audio audio;
  if (!decode(body, "request body", "empty_body", res, &audio)) return;
  body = std::string();  // free the upload before scoring
  const Profile* by = profile ? &profile->profile() : nullptr;
  ClipResult result = scorers[static_cast<std::size_t>(t_worker)]->score(audio.samples, output_index, by);
  metrics.clip_scored(result.clip.windows);
  nlohmann::ordered_json j =
      clip_json(name, output_index, result, by ? ScoreMethod::kDistance : ScoreMethod::kNegSoftmax);
  j["seconds"] = audio.duration_seconds();
  if (by) {
    const Verdict verdict = distance_judge.judge(result.clip, output_index, by);
    j["threshold"] = *verdict.threshold;
    j["score_kind"] = to_string(ScoreMethod::kDistance);
    j["decision"] = verdict.anomalous() ? "anomalous" : "normal";
  } else if (thresholds) {
    const std::string key = std::string("id_") + machine_id_of_output(output_index);
    const auto it = thresholds->machines.find(key);
    if (it != thresholds->machines.end()) {
      const double value = result.clip[thresholds->score_kind];
      j["threshold"] = it->second.threshold;
      j["score_kind"] = to_string(thresholds->score_kind);
      j["decision"] = is_anomalous(value, it->second.threshold) ? "anomalous" : "normal";
    }
  }
  answer_json(res, dump(j));
}

// Embeds each uploaded clip on this worker's scorer (decoded one at a time, its bytes freed
// after) and fits `name`'s profile. False once an error is answered.
bool Service::Impl::enrol_parts(std::vector<UploadPart>& parts, const std::string& name,
                                const EnrolSettings& settings, httplib::Response& res, FitResult* fit) {
  if (parts.size() > config.max_enrol_clips) {
    answer_error(res, 413, "too_many_clips",
                 std::to_string(parts.size()) + " clips uploaded, more than the limit of " +
                     std::to_string(config.max_enrol_clips) + " per enrolment");
    return false;
  }
  std::vector<ClipEmbeddings> clips;
  ClipScorer& scorer = *scorers[static_cast<std::size_t>(t_worker)];
  for (UploadPart& part : parts) {
    Audio audio;
    if (!decode(part.bytes, part.label, "empty_clip", res, &audio)) return false;
    part.bytes = std::string();
    clips.push_back(embed_audio(scorer, part.label, audio.samples));
  }
  try {
    *fit = fit_embeddings(model, name, settings, clips);
  } catch (const std::invalid_argument& e) {
    answer_error(res, 400, clips.size() < 2 ? "too_few_clips" : "bad_enrolment", e.what());
    return false;
  } catch (const std::runtime_error& e) {
    answer_error(res, 422, "fit_failed", std::string("cannot fit a profile on these clips: ") + e.what());
    return false;
  }
  return true;
}

void Service::Impl::handle_put_machine(const httplib::Request& req, httplib::Response& res,
                                       const httplib::ContentReader& reader) {
  std::string body;
  std::vector<UploadPart> parts;
  if (!read_body(req, res, reader, &body, &parts)) return;
  const bool multipart = req.is_multipart_form_data();
  if (!machines) {
    answer_error(res, 409, "no_profile_dir",
                 "this server keeps no machine profiles: start it with --profile DIR to enrol machines");
    return;
  }
  const std::string name = req.matches[1].str();
  if (name.find('\0') != std::string::npos || !is_valid_profile_name(name.c_str())) {
    answer_error(res, 400, "bad_name",
                 "machine name " + quoted(name) + " must be 1.." + std::to_string(kProfileNameBytes - 1) +
                     " characters of A-Z a-z 0-9 _ . - (and not . or ..)");
    return;
  }
  EnrolSettings settings;
  settings.framing = config.framing;
  settings.resize = config.resize;
  if (!multipart && (req.has_param("rank") || req.has_param("quantile"))) {
    answer_error(res, 400, "bad_parameter", "rank and quantile apply to enrolment from clips (multipart/form-data), "
                                            "not to an uploaded profile file");
    return;
  }
  if (req.has_param("rank") && !parse_rank(req.get_param_value("rank"), embedding_size(model.model), &settings.rank)) {
    answer_error(res, 400, "bad_parameter",
                 "rank " + quoted(req.get_param_value("rank")) + ": expected 0 or full (the default), compact, or 1.." +
                     std::to_string(embedding_size(model.model)) + " (the embedding size)");
    return;
  }
  if (req.has_param("quantile") && !parse_quantile(req.get_param_value("quantile"), &settings.quantile)) {
    answer_error(res, 400, "bad_parameter",
                 "quantile " + quoted(req.get_param_value("quantile")) + ": expected a number in 0.5..1 (default " +
                     nlohmann::json(kDefaultEnrolQuantile).dump() + ")");
    return;
  }

  std::vector<std::uint8_t> bytes;
  std::string warning;
  std::size_t clips = 0;
  if (multipart) {
    FitResult fit;
    if (!enrol_parts(parts, name, settings, res, &fit)) return;
    bytes = std::move(fit.bytes);
    warning = std::move(fit.warning);
    clips = parts.size();
  } else if (body.empty()) {
    answer_error(res, 400, "empty_body",
                 "request body is empty: send a profile file, or multipart/form-data with the machine's normal clips");
    return;
  } else if (!starts_with_profile_magic(body)) {
    answer_error(res, 415, "unsupported_body",
                 "request body is neither a profile file (starting with MNADPROF) nor multipart/form-data with the "
                 "machine's normal clips (curl -T profile.mnprof, or curl -X PUT -F clip=@a.wav -F clip=@b.wav ...)");
    return;
  } else {
    bytes.assign(body.begin(), body.end());
    body = std::string();
  }
  std::shared_ptr<const ProfileFile> file;
  try {
    file = machines->check(std::move(bytes), name, multipart ? "enrolled profile" : "request body");
  } catch (const ProfileRejected& e) {
    const bool invalid = e.kind() == ProfileRejected::Kind::kInvalid;
    answer_error(res, 422, invalid ? "bad_profile" : "profile_mismatch", e.what());
    return;
  }
  bool created = false;
  try {
    created = machines->store(file);
  } catch (const std::runtime_error& e) {
    answer_error(res, 500, "storage", std::string("the profile could not be stored: ") + e.what());
    return;
  }
  metrics.enrolled(static_cast<std::int64_t>(clips));
  metrics.set_machines(static_cast<std::int64_t>(machines->size()));
  nlohmann::ordered_json j = machine_json(*file);
  if (!warning.empty()) j["warning"] = warning;
  if (created) res.set_header("Location", "/v1/machines/" + name);
  answer_json(res, dump(j), created ? 201 : 200);
}

void Service::Impl::handle_get_machine(const std::string& name, httplib::Response& res) const {
  if (const auto file = find_machine(name, res)) answer_json(res, dump(machine_json(*file)));
}

void Service::Impl::handle_list_machines(httplib::Response& res) const {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  if (machines) {
    for (const auto& file : machines->all()) list.push_back(machine_json(*file));
  }
  answer_json(res, dump({{"machines", list}}));
}

void Service::Impl::handle_delete_machine(const std::string& name, httplib::Response& res) {
  if (!machines) {
    answer_error(res, 409, "no_profile_dir", "this server keeps no machine profiles (start it with --profile DIR)");
    return;
  }
  bool removed = false;
  try {
    removed = machines->remove(name);
  } catch (const std::runtime_error& e) {
    answer_error(res, 500, "storage", e.what());
    return;
  }
  if (!removed) {
    answer_unknown_machine(name, res);
    return;
  }
  metrics.set_machines(static_cast<std::int64_t>(machines->size()));
  answer_json(res, dump({{"deleted", name}}));
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
      if (!answered_overloaded(res)) answer(res);
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
  get("/v1/machines", [this](httplib::Response& res) { handle_list_machines(res); });
  // Any rest of the path is the name, checked by the handlers: "/v1/machines/../x" is a bad name.
  const char* machine = R"(/v1/machines/(.*))";
  server.Get(machine, [this](const httplib::Request& req, httplib::Response& res) {
    if (!answered_overloaded(res)) handle_get_machine(req.matches[1].str(), res);
  });
  server.Put(machine, [this](const httplib::Request& req, httplib::Response& res,
                             const httplib::ContentReader& reader) { handle_put_machine(req, res, reader); });
  server.Delete(machine, [this](const httplib::Request& req, httplib::Response& res) {
    if (!answered_overloaded(res)) handle_delete_machine(req.matches[1].str(), res);
  });
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

std::size_t Service::machines() const { return impl_->machines ? impl_->machines->size() : 0; }

std::string Service::metrics_text() const { return impl_->metrics.prometheus_text(); }

}  // namespace micronet_ad::host
