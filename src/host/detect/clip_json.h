// The JSON form of one scored clip: what `score --format json` prints per clip and what the HTTP
// service answers, so both stay the same.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "host/detect/clip_scorer.h"
#include "host/detect/judge.h"

namespace micronet_ad::host {

// "00".."06" for the predicted machine, "-" when none.
std::string predicted_machine_id(const ClipScore& clip);

// {path, machine_id, score_method, score (that method's clip score), neg_softmax, nll,
//  [profile, distance,] windows, predicted_machine_id, window_scores (that method's), degenerate,
//  max_output_range_steps, output_ranges}. A score that does not apply is null.
nlohmann::ordered_json clip_json(const std::string& path, int output_index, const ClipResult& result,
                                 ScoreMethod method = ScoreMethod::kNegSoftmax);

// Adds what a clip's judgement says, the same for `score --format json` and the service:
// `seconds` (the decoded clip's length) always; `threshold`, `score_kind` (the kind the threshold
// was calibrated on, `method`) and `decision` ("anomalous" when the clip's score of that kind
// exceeds the threshold, else "normal") when `verdict` has a threshold.
void add_verdict_json(nlohmann::ordered_json* clip, double seconds, const Verdict& verdict, ScoreMethod method);
// Only the decision fields (`threshold`, `score_kind`, `decision`), for records that are not
// whole clips: stream's window and summary lines.
void add_decision_json(nlohmann::ordered_json* clip, const Verdict& verdict, ScoreMethod method);

}  // namespace micronet_ad::host
