#include "host/detect/clip_json.h"

namespace micronet_ad::host {

std::string predicted_machine_id(const ClipScore& clip) {
  const char* id = machine_id_of_output(clip.predicted_output);
  return id ? id : "-";
}

nlohmann::ordered_json clip_json(const std::string& path, int output_index, const ClipResult& r) {
  nlohmann::ordered_json outputs = nlohmann::ordered_json::array();
  for (int i = 0; i < kNumOutputs; ++i) outputs.push_back({r.clip.output_min[i], r.clip.output_max[i]});
  const char* id = machine_id_of_output(output_index);
  return {{"path", path},
          {"machine_id", id ? id : "-"},
          {"score", r.clip.score},
          {"nll", r.clip.nll},
          {"windows", r.clip.windows},
          {"predicted_machine_id", predicted_machine_id(r.clip)},
          {"window_scores", r.window_scores},
          {"degenerate", r.clip.degenerate()},
          {"max_output_range_steps", r.clip.max_output_range()},
          {"output_ranges", outputs}};
}

}  // namespace micronet_ad::host
