// libFuzzer target for what a fleet worker does with one MQTT clip message, whoever sent it
// (host/fleet/clip_handler.h): the topic, the user properties clip_id, machine_id and
// captured_at, the payload limits, the audio decoding and the scoring, without the network.
// The input is NUL-separated: topic, clip_id, machine_id, captured_at, then the payload bytes
// (missing fields are empty). Checks: no crash or sanitizer report, and every outcome is either
// a score with a finite score and the message's machine, or an error with a kind and a message;
// both must serialise as the worker publishes them.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "host/fleet/clip_handler.h"
#include "host/io/default_model.h"
#include "host/io/json_text.h"

namespace {

using namespace micronet_ad::host;

// The smallest model keeps an iteration short; the handler's logic does not depend on which.
const fleet::ScoringSetup& setup() {
  static const std::unique_ptr<ModelFile> model = load_default_model("small");
  static const fleet::ScoringSetup s = [] {
    fleet::ScoringSetup v;
    v.model = model.get();
    v.max_seconds = 2.0;  // the fuzzer's clips are short; longer ones must be refused
    v.max_payload_bytes = 1 << 16;
    v.worker = "fuzz";
    return v;
  }();
  return s;
}

// The next NUL-terminated field of [*at, end); the rest when there is no NUL.
std::string next_field(const std::uint8_t** at, const std::uint8_t* end) {
  const void* nul = std::memchr(*at, 0, static_cast<std::size_t>(end - *at));
  const std::uint8_t* stop = nul ? static_cast<const std::uint8_t*>(nul) : end;
  std::string field(reinterpret_cast<const char*>(*at), static_cast<std::size_t>(stop - *at));
  *at = nul ? stop + 1 : end;
  return field;
}

std::string dump(const nlohmann::ordered_json& j) { return wire_json(j); }

void check(const fleet::ClipOutcome& out, const std::string& topic) {
  if (out.scored) {
    const double score = out.score.at("score").get<double>();
    if (!std::isfinite(score) || out.machine.empty() || topic.find("/" + out.machine + "/") == std::string::npos)
      std::abort();
    if (dump(out.score).empty() || dump(out.state).empty()) std::abort();
  } else {
    if (out.error.at("kind").get<std::string>().empty() || out.error.at("error").get<std::string>().empty())
      std::abort();
    if (dump(out.error).empty()) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static fleet::ClipHandler handler(setup());
  const std::uint8_t* at = data;
  const std::uint8_t* end = data + size;
  fleet::MqttMessage message;
  message.topic = next_field(&at, end);
  for (const char* name : {"clip_id", "machine_id", "captured_at"}) {
    std::string value = next_field(&at, end);
    if (!value.empty()) message.user_properties.emplace_back(name, std::move(value));
  }
  // Exact-size copy so that AddressSanitizer sees reads past the end.
  const std::size_t payload_size = static_cast<std::size_t>(end - at);
  std::unique_ptr<std::uint8_t[]> payload(new std::uint8_t[payload_size > 0 ? payload_size : 1]);
  if (payload_size > 0) std::memcpy(payload.get(), at, payload_size);
  message.payload = payload.get();
  message.size = payload_size;
  check(handler.handle(message, std::chrono::steady_clock::now()), message.topic);
  return 0;
}
