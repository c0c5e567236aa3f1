#include "host/detect/clip_json.h"

namespace micronet_ad::host {

std::string predicted_machine_id(const ClipScore& clip) {
  const char* id = machine_id_of_output(clip.predicted_output);
  return id ? id : "-";
}

nlohmann::ordered_json clip_json(const std::string& path, int output_index, const ClipResult& r, ScoreMethod method) {
  nlohmann::ordered_json outputs = nlohmann::ordered_json::array();
  for (int i = 0; i < kNumOutputs; ++i) outputs.push_back({r.clip.output_min[i], r.clip.output_max[i]});
  const char* id = machine_id_of_output(output_index);
  nlohmann::ordered_json j = {{"path", path},
                              {"machine_id", id ? id : "-"},
                              {"score_method", score_method_name(method)},
                              {"score", r.clip[method]},
                              {"neg_softmax", r.clip[ScoreMethod::kNegSoftmax]},
                              {"nll", r.clip[ScoreMethod::kNll]}};
  if (r.profile != nullptr) {
    j["profile"] = r.profile->header().name;
    j["distance"] = r.clip[ScoreMethod::kDistance];
  }
  j["windows"] = r.clip.windows;
  j["predicted_machine_id"] = predicted_machine_id(r.clip);
  j["window_scores"] = r.window_scores_of(method);
  j["degenerate"] = r.clip.degenerate();
  j["max_output_range_steps"] = r.clip.max_output_range();
  j["output_ranges"] = outputs;
  return j;
}

void add_verdict_json(nlohmann::ordered_json* clip, double seconds, const Verdict& verdict, ScoreMethod method) {
  (*clip)["seconds"] = seconds;
  add_decision_json(clip, verdict, method);
}

void add_decision_json(nlohmann::ordered_json* clip, const Verdict& verdict, ScoreMethod method) {
  if (!verdict.threshold) return;
  (*clip)["threshold"] = *verdict.threshold;
  (*clip)["score_kind"] = to_string(method);
  (*clip)["decision"] = verdict.anomalous() ? "anomalous" : "normal";
}

}  // namespace micronet_ad::host
