// What a worker does with one clip message, without MQTT: checks the payload, finds how the
// machine is scored (its enrolled profile, else its DCASE machine ID with the model's softmax),
// decodes and scores it, and says what to publish — the score and the retained state, or an
// error. Not thread-safe (one ClipScorer): one per worker session.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "host/audio/audio_file.h"
#include "host/detect/clip_scorer.h"
#include "host/detect/judge.h"
#include "host/detect/profile_set.h"
#include "host/eval/thresholds.h"
#include "host/fleet/mqtt_client.h"

namespace micronet_ad::host::fleet {

struct ScoringSetup {
  const ModelFile* model = nullptr;
  std::shared_ptr<const ProfileSet> profiles;  // --profile DIR|FILE; null: none
  std::optional<ThresholdSet> thresholds;      // neg_softmax or nll, per machine ID
  Framing framing = Framing::kCentered;
  Resize resize = Resize::kAverage;
  KernelSet kernels = KernelSet::kAuto;
  double max_seconds = 120.0;  // of audio per clip
  std::size_t max_payload_bytes = std::size_t(32) << 20;
  std::string worker;  // this worker's name, in every answer
};

struct ClipOutcome {
  std::string machine;  // "" when the topic names none
  std::string clip_id;
  bool scored = false;
  nlohmann::ordered_json score;  // for <machine>/score
  nlohmann::ordered_json state;  // for <machine>/state (retained)
  nlohmann::ordered_json error;  // for <machine>/error when !scored: {error, kind, clip_id, ...}
};

// The clip id a message goes by: its `clip_id` user property, else "sha1:" and the first 16 hex
// digits of the payload's SHA-1, so a redelivered clip gets the same id.
std::string message_clip_id(const MqttMessage& message);

// The model output of a machine scored by softmax: user property `machine_id` ("00"), else a
// machine named like a DCASE ID ("00", "id_00", "slider_id_00"); -1 when neither.
int machine_output_index(const std::string& machine, const std::string& machine_id_property);

class ClipHandler {
 public:
  explicit ClipHandler(const ScoringSetup& setup);
  // `received`: when the message arrived (latency_ms counts from there).
  ClipOutcome handle(const MqttMessage& message, std::chrono::steady_clock::time_point received);

 private:
  ClipOutcome fail(ClipOutcome outcome, const std::string& kind, const std::string& message) const;

  const ScoringSetup& setup_;
  const ServiceJudge judge_;
  ClipScorer scorer_;
  Audio audio_;  // reused: one sample buffer per session
};

// UTC now as ISO 8601 with milliseconds, "2026-11-30T23:59:59.123Z".
std::string utc_now_iso8601();

}  // namespace micronet_ad::host::fleet
