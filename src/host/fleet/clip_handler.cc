#include "host/fleet/clip_handler.h"

#include <ctime>
#include <regex>

#include "host/detect/clip_json.h"
#include "host/detect/judge.h"
#include "host/io/sha1.h"

namespace micronet_ad::host::fleet {
namespace {

std::string clipped(const std::string& text, std::size_t max = 64) {
  return text.size() <= max ? text : text.substr(0, max) + "...";
}

}  // namespace

std::string utc_now_iso8601() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const long ms =
      static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return text;
}

std::string message_clip_id(const MqttMessage& message) {
  std::string id = message.property("clip_id");
  if (!id.empty()) return clipped(id, 128);
  return "sha1:" + sha1_hex(message.payload, message.size).substr(0, 16);
}

int machine_output_index(const std::string& machine, const std::string& machine_id_property) {
  std::string id = machine_id_property;
  if (id.empty()) {
    static const std::regex dcase(R"((?:.*_)?id_(\d\d)|(\d\d))");  // "slider_id_00", "id_00", "00"
    std::smatch m;
    if (std::regex_match(machine, m, dcase)) id = m[1].matched ? m[1].str() : m[2].str();
  }
  int output = -1;
  if (id.empty() || !output_of_machine_id(id.c_str(), &output)) return -1;
  return output;
}

ClipHandler::ClipHandler(const ScoringSetup& setup)
    : setup_(setup),
      judge_(setup.thresholds),
      scorer_(setup.model->model, setup.framing, setup.resize, setup.kernels) {}

ClipOutcome ClipHandler::fail(ClipOutcome outcome, const std::string& kind, const std::string& message) const {
  outcome.scored = false;
  outcome.error = {{"error", message},           {"kind", kind},
                   {"machine", outcome.machine}, {"clip_id", outcome.clip_id},
                   {"worker", setup_.worker},    {"time", utc_now_iso8601()}};
  return outcome;
}

ClipOutcome ClipHandler::handle(const MqttMessage& message, std::chrono::steady_clock::time_point received) {
  ClipOutcome out;
  out.clip_id = message_clip_id(message);
  const std::optional<std::string> machine = clip_topic_machine(message.topic);
  if (!machine || !valid_machine_name(*machine))
    return fail(out, "bad_topic",
                "topic '" + clipped(message.topic) +
                    "' is not micronet-ad/v1/<machine>/clip with a machine name of 1..64 of [A-Za-z0-9_.-]");
  out.machine = *machine;
  if (message.size == 0) return fail(out, "empty", "empty payload: a clip is the bytes of a WAV or FLAC file");
  if (message.size > setup_.max_payload_bytes)
    return fail(out, "too_large",
                "payload of " + std::to_string(message.size) + " bytes is over this worker's limit of " +
                    std::to_string(setup_.max_payload_bytes));
  // How the machine is scored: its profile first, else its machine ID's softmax output.
  const ProfileFile* profile = setup_.profiles ? (setup_.profiles->single() ? &setup_.profiles->for_clip("", "")
                                                                            : setup_.profiles->find(*machine))
                                               : nullptr;
  const std::string machine_id = message.property("machine_id");
  const int output_index = machine_output_index(*machine, machine_id);
  if (!profile && output_index < 0) {
    std::string why = "unknown machine '" + *machine + "': ";
    why += machine_id.empty() ? "no user property machine_id (00, 02, 04 or 06)"
                              : "machine_id '" + clipped(machine_id) + "' is not 00, 02, 04 or 06";
    why += setup_.profiles ? " and no profile of that name" : " and this worker has no profiles (--profile)";
    return fail(out, "unknown_machine", why);
  }
  try {
    AudioLoadOptions options;
    options.max_seconds = setup_.max_seconds;
    audio_ = load_audio_memory(message.payload, message.size, "clip " + clipped(out.clip_id), options);
  } catch (const AudioError& e) {
    return fail(out, to_string(e.kind()), e.what());
  }
  const Profile* by = profile ? &profile->profile() : nullptr;
  ClipResult result;
  try {
    result = scorer_.score(audio_.samples, output_index, by);
  } catch (const std::exception& e) {
    return fail(out, "scoring_failed", e.what());
  }
  const ScoreMethod method = by ? ScoreMethod::kDistance : ScoreMethod::kNegSoftmax;
  out.score = clip_json(message.topic, output_index, result, method);
  add_verdict_json(&out.score, audio_.duration_seconds(), judge_.judge(result.clip, output_index, by),
                   judge_.method(by));
  const double latency_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - received).count();
  out.score["machine"] = out.machine;
  out.score["clip_id"] = out.clip_id;
  if (const std::string at = message.property("captured_at"); !at.empty()) out.score["captured_at"] = clipped(at);
  out.score["worker"] = setup_.worker;
  out.score["latency_ms"] = latency_ms;
  const std::string time = utc_now_iso8601();
  out.state = {{"machine", out.machine},
               {"decision", out.score.contains("decision") ? out.score["decision"] : nlohmann::ordered_json()},
               {"score", out.score["score"]},
               {"threshold", out.score.contains("threshold") ? out.score["threshold"] : nlohmann::ordered_json()},
               {"score_kind",
                out.score.contains("score_kind") ? out.score["score_kind"] : nlohmann::ordered_json(to_string(method))},
               {"clip_id", out.clip_id},
               {"time", time}};
  out.scored = true;
  return out;
}

}  // namespace micronet_ad::host::fleet
