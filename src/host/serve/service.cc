#include "host/serve/service.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/audio/audio_file.h"
#include "host/detect/clip_json.h"
#include "host/detect/clip_scorer.h"
#include "host/detect/enrolment.h"
#include "host/detect/judge.h"
#include "host/io/json_text.h"
#include "host/io/model_info.h"
#include "host/io/sha1.h"
#include "host/serve/http_parse.h"
#include "host/serve/http_server.h"
#include "host/serve/machines.h"
#include "host/serve/metrics.h"

namespace micronet_ad::host {
namespace {

// Endpoint label for the metrics: the known routes, everything else "other" (bounded labels).
std::string endpoint_label(const std::string& path) {
  for (const char* known : {"/v1/score", "/v1/model", "/healthz", "/metrics", "/v1/machines"}) {
    if (path == known) return known;
  }
  if (path.rfind("/v1/machines/", 0) == 0) return "/v1/machines/{name}";
  return "other";
}

constexpr const char* kNotFound =
    "not found: the endpoints are POST /v1/score, GET /v1/machines, PUT/GET/DELETE /v1/machines/NAME, "
    "GET /v1/model, GET /healthz, GET /metrics";

std::string dump(const nlohmann::ordered_json& j) { return wire_json(j) + "\n"; }

std::string error_body(int status, const std::string& kind, const std::string& message,
                       const nlohmann::ordered_json& extra = {}) {
  nlohmann::ordered_json j{{"error", message}, {"kind", kind}, {"status", status}};
  if (extra.is_object()) j.update(extra);
  return dump(j);
}

void answer_error(HttpResponse& res, int status, const std::string& kind, const std::string& message,
                  const nlohmann::ordered_json& extra = {}) {
  res.status = status;
  res.content_type = "application/json";
  res.body = error_body(status, kind, message, extra);
  res.error_kind = kind;
}

void answer_json(HttpResponse& res, const std::string& json, int status = 200) {
  res.status = status;
  res.content_type = "application/json";
  res.body = json;
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
  std::string label;       // "part 2 ('b.wav')": starts every error about it
  std::string_view bytes;  // in the request body
};

std::string part_label(std::size_t index, const MultipartPart& part) {
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
    case AudioError::Kind::kNotAudio:
      return 415;
    case AudioError::Kind::kTooLong:
      return 413;
    default:
      return 400;
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

  // One request's route: the machine name for /v1/machines/NAME, the worker's index.
  struct Call {
    const HttpRequest& req;
    std::string name;
    int worker;
  };
  using Handler = void (Impl::*)(const Call& call, HttpResponse& res);
  struct Route {
    const char* method;
    const char* path;  // ending in '/': the rest of the path is the machine name
    std::vector<const char*> params;
    Handler handler;
    bool cheap;  // answered on the I/O thread, even while every worker is busy
  };
  static const std::vector<Route>& routes();
  static const Route* find_route(const std::string& method, const std::string& path, bool* path_known);

  HttpResponse handle(const HttpRequest& req, int worker);
  void observe(const std::string& path, const HttpResponse& res, double seconds);
  bool upload_parts(const HttpRequest& req, HttpResponse& res, std::vector<UploadPart>* parts) const;
  bool decode(std::string_view bytes, const std::string& label, const char* empty_kind, HttpResponse& res,
              Audio* audio) const;
  void answer_unknown_machine(const std::string& name, HttpResponse& res) const;
  std::shared_ptr<const ProfileFile> find_machine(const std::string& name, HttpResponse& res) const;
  bool enrol_parts(std::vector<UploadPart>& parts, const std::string& name, const EnrolSettings& settings, int worker,
                   HttpResponse& res, FitResult* fit);
  bool score_params(const HttpRequest& req, HttpResponse& res, int* output_index,
                    std::shared_ptr<const ProfileFile>* profile) const;
  void add_decision(const ClipResult& result, double seconds, int output_index, const Profile* by,
                    nlohmann::ordered_json* j) const;
  void handle_health(const Call& call, HttpResponse& res);
  void handle_metrics(const Call& call, HttpResponse& res);
  void handle_model(const Call& call, HttpResponse& res);
  void handle_score(const Call& call, HttpResponse& res);
  // PUT /v1/machines/NAME in steps; each answers the error itself and returns false / nullptr.
  bool enrol_settings(const QueryParams& q, bool multipart, HttpResponse& res, EnrolSettings* settings) const;
  bool uploaded_profile(const std::string& body, HttpResponse& res, std::vector<std::uint8_t>* bytes) const;
  std::shared_ptr<const ProfileFile> check_and_store(std::vector<std::uint8_t> bytes, const std::string& name,
                                                     const char* what, HttpResponse& res, bool* created);
  void handle_put_machine(const Call& call, HttpResponse& res);
  void handle_get_machine(const Call& call, HttpResponse& res);
  void handle_list_machines(const Call& call, HttpResponse& res);
  void handle_delete_machine(const Call& call, HttpResponse& res);
  std::string model_json() const;

  const ModelFile& model;
  const std::string model_sha1;
  const std::optional<ThresholdSet> thresholds;
  const ServiceConfig config;
  const ServiceJudge judge{thresholds};
  std::unique_ptr<MachineProfiles> machines;  // with a profile directory
  int workers = 1;
  std::vector<std::unique_ptr<ClipScorer>> scorers;  // one per worker thread
  ServiceMetrics metrics;
  std::string model_info;  // GET /v1/model
  std::unique_ptr<HttpServer> server;
};

std::string Service::Impl::model_json() const {
  nlohmann::json j = model_info_json(model);
  j["framing"] = to_string(config.framing);
  j["resize"] = to_string(config.resize);
  j["workers"] = workers;
  j["limits"] = {{"max_body_bytes", config.max_body_bytes},
                 {"max_seconds", config.max_seconds},
                 {"request_timeout_seconds", config.request_timeout_seconds},
                 {"write_timeout_seconds", config.write_timeout_seconds},
                 {"keep_alive_seconds", config.keep_alive_seconds},
                 {"max_requests_per_connection", config.max_requests_per_connection},
                 {"max_connections", config.max_connections},
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

// The parts of a multipart/form-data upload, at most one more than the clips an enrolment may
// have. False once an error is answered.
bool Service::Impl::upload_parts(const HttpRequest& req, HttpResponse& res, std::vector<UploadPart>* parts) const {
  std::string boundary, error;
  if (!multipart_boundary(req.header("Content-Type"), &boundary)) {
    answer_error(res, 400, "bad_body", "multipart/form-data request without a valid boundary parameter");
    return false;
  }
  std::vector<MultipartPart> found;
  switch (parse_multipart(req.body, boundary, config.max_enrol_clips, &found, &error)) {
    case MultipartStatus::kOk:
      break;
    case MultipartStatus::kTooManyParts:
      answer_error(
          res, 413, "too_many_clips",
          "more clips uploaded than the limit of " + std::to_string(config.max_enrol_clips) + " per enrolment");
      return false;
    case MultipartStatus::kMalformed:
      answer_error(res, 400, "bad_body", "request body could not be read as multipart/form-data: " + error);
      return false;
  }
  for (const MultipartPart& part : found) parts->push_back({part_label(parts->size() + 1, part), part.bytes});
  return true;
}

// Decodes an audio file's bytes with the service's limits. False once an error is answered.
bool Service::Impl::decode(std::string_view bytes, const std::string& label, const char* empty_kind, HttpResponse& res,
                           Audio* audio) const {
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
void Service::Impl::answer_unknown_machine(const std::string& name, HttpResponse& res) const {
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
std::shared_ptr<const ProfileFile> Service::Impl::find_machine(const std::string& name, HttpResponse& res) const {
  std::shared_ptr<const ProfileFile> file = machines ? machines->find(name) : nullptr;
  if (!file) answer_unknown_machine(name, res);
  return file;
}

// Which output (?machine_id=) or enrolled profile (?machine=) scores the clip. False once an
// error is answered.
bool Service::Impl::score_params(const HttpRequest& req, HttpResponse& res, int* output_index,
                                 std::shared_ptr<const ProfileFile>* profile) const {
  const QueryParams& q = req.query;
  if (q.count("machine")) {
    if (q.count("machine_id")) {
      answer_error(res, 400, "conflicting_machine",
                   "give either machine (an enrolled machine: distance from its profile) or machine_id (the "
                   "model's machine ID output), not both");
      return false;
    }
    *profile = find_machine(q.at("machine"), res);  // a snapshot, whatever replaces it
    return *profile != nullptr;
  }
  if (!q.count("machine_id")) {
    answer_error(res, 400, "missing_machine_id",
                 "query parameter machine_id is required (00, 02, 04 or 06), or machine=NAME for an enrolled "
                 "machine");
    return false;
  }
  const std::string& machine_id = q.at("machine_id");
  if (const Status s = output_of_machine_id(machine_id.c_str(), output_index); !s) {
    answer_error(res, 400, "unknown_machine_id", "machine_id " + quoted(machine_id) + ": " + s.message());
    return false;
  }
  return true;
}

// `seconds` and the verdict: the profile's threshold, or the thresholds file's for this machine ID
// (none when the file has no threshold for it).
void Service::Impl::add_decision(const ClipResult& result, double seconds, int output_index, const Profile* by,
                                 nlohmann::ordered_json* j) const {
  add_verdict_json(j, seconds, judge.judge(result.clip, output_index, by), judge.method(by));
}

void Service::Impl::handle_score(const Call& call, HttpResponse& res) {
  const HttpRequest& req = call.req;
  if (is_multipart_form_data(req.header("Content-Type"))) {
    answer_error(res, 415, "not_audio",
                 "request body is a multipart/form-data form: send the audio file itself as the body "
                 "(curl --data-binary @clip.wav)");
    return;
  }
  int output_index = -1;
  std::shared_ptr<const ProfileFile> profile;
  if (!score_params(req, res, &output_index, &profile)) return;
  const auto name_it = req.query.find("name");
  const std::string name = name_it != req.query.end() ? name_it->second : "-";
  Audio audio;
  if (!decode(req.body, "request body", "empty_body", res, &audio)) return;
  const Profile* by = profile ? &profile->profile() : nullptr;
  ClipResult result = scorers[static_cast<std::size_t>(call.worker)]->score(audio.samples, output_index, by);
  metrics.clip_scored(result.clip.windows);
  nlohmann::ordered_json j =
      clip_json(name, output_index, result, by ? ScoreMethod::kDistance : ScoreMethod::kNegSoftmax);
  add_decision(result, audio.duration_seconds(), output_index, by, &j);
  answer_json(res, dump(j));
}

// Embeds each uploaded clip on this worker's scorer (decoded one at a time) and fits `name`'s
// profile. False once an error is answered.
bool Service::Impl::enrol_parts(std::vector<UploadPart>& parts, const std::string& name, const EnrolSettings& settings,
                                int worker, HttpResponse& res, FitResult* fit) {
  std::vector<ClipEmbeddings> clips;
  ClipScorer& scorer = *scorers[static_cast<std::size_t>(worker)];
  for (UploadPart& part : parts) {
    Audio audio;
    if (!decode(part.bytes, part.label, "empty_clip", res, &audio)) return false;
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

bool Service::Impl::enrol_settings(const QueryParams& q, bool multipart, HttpResponse& res,
                                   EnrolSettings* settings) const {
  settings->framing = config.framing;
  settings->resize = config.resize;
  if (!multipart && (q.count("rank") || q.count("quantile"))) {
    answer_error(res, 400, "bad_parameter",
                 "rank and quantile apply to enrolment from clips (multipart/form-data), "
                 "not to an uploaded profile file");
    return false;
  }
  if (q.count("rank") && !parse_rank(q.at("rank"), embedding_size(model.model), &settings->rank)) {
    answer_error(res, 400, "bad_parameter",
                 "rank " + quoted(q.at("rank")) + ": expected 0 or full (the default), compact, or 1.." +
                     std::to_string(embedding_size(model.model)) + " (the embedding size)");
    return false;
  }
  if (q.count("quantile") && !parse_quantile(q.at("quantile"), &settings->quantile)) {
    answer_error(res, 400, "bad_parameter",
                 "quantile " + quoted(q.at("quantile")) + ": expected a number in 0.5..1 (default " +
                     nlohmann::json(kDefaultEnrolQuantile).dump() + ")");
    return false;
  }
  return true;
}

bool Service::Impl::uploaded_profile(const std::string& body, HttpResponse& res,
                                     std::vector<std::uint8_t>* bytes) const {
  if (body.empty()) {
    answer_error(res, 400, "empty_body",
                 "request body is empty: send a profile file, or multipart/form-data with the machine's normal clips");
    return false;
  }
  if (!starts_with_profile_magic(body)) {
    answer_error(res, 415, "unsupported_body",
                 "request body is neither a profile file (starting with MNADPROF) nor multipart/form-data with the "
                 "machine's normal clips (curl -T profile.mnprof, or curl -X PUT -F clip=@a.wav -F clip=@b.wav ...)");
    return false;
  }
  bytes->assign(body.begin(), body.end());
  return true;
}

std::shared_ptr<const ProfileFile> Service::Impl::check_and_store(std::vector<std::uint8_t> bytes,
                                                                  const std::string& name, const char* what,
                                                                  HttpResponse& res, bool* created) {
  std::shared_ptr<const ProfileFile> file;
  try {
    file = machines->check(std::move(bytes), name, what);
  } catch (const ProfileRejected& e) {
    const bool invalid = e.kind() == ProfileRejected::Kind::kInvalid;
    answer_error(res, 422, invalid ? "bad_profile" : "profile_mismatch", e.what());
    return nullptr;
  }
  try {
    *created = machines->store(file);
  } catch (const std::runtime_error& e) {
    answer_error(res, 500, "storage", std::string("the profile could not be stored: ") + e.what());
    return nullptr;
  }
  return file;
}

void Service::Impl::handle_put_machine(const Call& call, HttpResponse& res) {
  const HttpRequest& req = call.req;
  std::vector<UploadPart> parts;
  const bool multipart = is_multipart_form_data(req.header("Content-Type"));
  if (multipart && !upload_parts(req, res, &parts)) return;
  if (!machines) {
    answer_error(res, 409, "no_profile_dir",
                 "this server keeps no machine profiles: start it with --profile DIR to enrol machines");
    return;
  }
  const std::string& name = call.name;
  if (name.find('\0') != std::string::npos || !is_valid_profile_name(name.c_str())) {
    answer_error(res, 400, "bad_name",
                 "machine name " + quoted(name) + " must be 1.." + std::to_string(kProfileNameBytes - 1) +
                     " characters of A-Z a-z 0-9 _ . - (and not . or ..)");
    return;
  }
  EnrolSettings settings;
  if (!enrol_settings(req.query, multipart, res, &settings)) return;
  std::vector<std::uint8_t> bytes;
  FitResult fit;
  if (multipart) {
    if (!enrol_parts(parts, name, settings, call.worker, res, &fit)) return;
    bytes = std::move(fit.bytes);
  } else if (!uploaded_profile(req.body, res, &bytes)) {
    return;
  }
  bool created = false;
  const auto file =
      check_and_store(std::move(bytes), name, multipart ? "enrolled profile" : "request body", res, &created);
  if (!file) return;
  metrics.enrolled(static_cast<std::int64_t>(multipart ? parts.size() : 0));
  metrics.set_machines(static_cast<std::int64_t>(machines->size()));
  nlohmann::ordered_json j = machine_json(*file);
  if (!fit.warning.empty()) j["warning"] = fit.warning;
  if (created) res.headers.emplace_back("Location", "/v1/machines/" + name);
  answer_json(res, dump(j), created ? 201 : 200);
}

void Service::Impl::handle_get_machine(const Call& call, HttpResponse& res) {
  if (const auto file = find_machine(call.name, res)) answer_json(res, dump(machine_json(*file)));
}

void Service::Impl::handle_list_machines(const Call&, HttpResponse& res) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  if (machines) {
    for (const auto& file : machines->all()) list.push_back(machine_json(*file));
  }
  answer_json(res, dump({{"machines", list}}));
}

void Service::Impl::handle_delete_machine(const Call& call, HttpResponse& res) {
  const std::string& name = call.name;
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

void Service::Impl::handle_health(const Call&, HttpResponse& res) { answer_json(res, "{\"status\":\"ok\"}\n"); }

void Service::Impl::handle_metrics(const Call&, HttpResponse& res) {
  res.content_type = "text/plain; version=0.0.4";
  res.body = metrics.prometheus_text();
}

void Service::Impl::handle_model(const Call&, HttpResponse& res) { answer_json(res, model_info); }

const std::vector<Service::Impl::Route>& Service::Impl::routes() {
  static const std::vector<Route> table = {
      {"GET", "/healthz", {}, &Impl::handle_health, true},
      {"GET", "/metrics", {}, &Impl::handle_metrics, true},
      {"GET", "/v1/model", {}, &Impl::handle_model, false},
      {"POST", "/v1/score", {"machine_id", "machine", "name"}, &Impl::handle_score, false},
      {"GET", "/v1/machines", {}, &Impl::handle_list_machines, false},
      // Any rest of the path is the name, checked by the handlers: "/v1/machines/../x" is a bad name.
      {"GET", "/v1/machines/", {}, &Impl::handle_get_machine, false},
      {"PUT", "/v1/machines/", {"rank", "quantile"}, &Impl::handle_put_machine, false},
      {"DELETE", "/v1/machines/", {}, &Impl::handle_delete_machine, false},
  };
  return table;
}

static bool route_matches_path(const char* route_path, const std::string& path) {
  const std::size_t n = std::strlen(route_path);
  return route_path[n - 1] == '/' ? path.compare(0, n, route_path) == 0 : path == route_path;
}

// The route for method and path; nullptr when none (`path_known`: some route has this path).
const Service::Impl::Route* Service::Impl::find_route(const std::string& method, const std::string& path,
                                                      bool* path_known) {
  *path_known = false;
  for (const Route& route : routes()) {
    if (!route_matches_path(route.path, path)) continue;
    *path_known = true;
    if (method == route.method) return &route;
  }
  return nullptr;
}

HttpResponse Service::Impl::handle(const HttpRequest& req, int worker) {
  HttpResponse res;
  bool path_known = false;
  const Route* route = find_route(req.method, req.path, &path_known);
  if (!route) {
    answer_error(res, 404, "not_found", kNotFound);
    return res;
  }
  if (const std::string unknown = unknown_parameters(req.query, route->params); !unknown.empty()) {
    answer_error(res, 400, "unknown_parameter", unknown);
    return res;
  }
  const std::size_t prefix = std::strlen(route->path);
  const Call call{req, route->path[prefix - 1] == '/' ? req.path.substr(prefix) : std::string(), worker};
  (this->*(route->handler))(call, res);
  return res;
}

// Counts every answer, whoever gave it (a handler or the HTTP layer), before it is written.
void Service::Impl::observe(const std::string& path, const HttpResponse& res, double seconds) {
  metrics.request_finished(endpoint_label(path), res.status, seconds);
  if (res.status >= 400) metrics.error(res.error_kind.empty() ? "client_error" : res.error_kind);
}

Service::Service(const ModelFile& model, std::optional<ThresholdSet> thresholds, const ServiceConfig& config)
    : impl_(std::make_unique<Impl>(model, std::move(thresholds), config)) {
  Impl& s = *impl_;
  s.workers = config.workers > 0 ? config.workers : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 0; i < s.workers; ++i)
    s.scorers.push_back(std::make_unique<ClipScorer>(model.model, config.framing, config.resize, config.kernels));
  s.model_info = s.model_json();
  HttpLimits limits;
  limits.max_body_bytes = config.max_body_bytes;
  limits.request_deadline = std::chrono::milliseconds(static_cast<long long>(config.request_timeout_seconds * 1000));
  limits.write_deadline = std::chrono::milliseconds(static_cast<long long>(config.write_timeout_seconds * 1000));
  limits.keep_alive_idle = std::chrono::milliseconds(static_cast<long long>(config.keep_alive_seconds * 1000));
  limits.drain_deadline = std::chrono::milliseconds(static_cast<long long>(config.drain_timeout_seconds * 1000));
  limits.max_requests_per_connection = config.max_requests_per_connection;
  limits.max_connections = config.max_connections;
  limits.max_queue = config.max_queue;
  HttpServer::Observer observer;
  observer.started = [&s] { s.metrics.request_started(); };
  observer.answered = [&s](const std::string& path, const HttpResponse& res, double seconds) {
    s.observe(path, res, seconds);
  };
  s.server = std::make_unique<HttpServer>(
      limits, s.workers, [&s](const HttpRequest& req, int worker) { return s.handle(req, worker); },
      [](const std::string& method, const std::string& path) {
        bool known = false;
        const Impl::Route* route = Impl::find_route(method, path, &known);
        return route && route->cheap;
      },
      std::move(observer));
}

Service::~Service() = default;

int Service::bind() { return impl_->server->bind(impl_->config.host, impl_->config.port); }

void Service::run() { impl_->server->run(); }

void Service::stop() { impl_->server->stop(); }

int Service::workers() const { return impl_->workers; }

std::size_t Service::machines() const { return impl_->machines ? impl_->machines->size() : 0; }

}  // namespace micronet_ad::host
