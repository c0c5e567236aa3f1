// The JSON form of one scored clip: what `score --format json` prints per clip and what the HTTP
// service answers, so both stay the same.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "host/detect/clip_scorer.h"

namespace micronet_ad::host {

// "00".."06" for the predicted machine, "-" when none.
std::string predicted_machine_id(const ClipScore& clip);

// {path, machine_id, score, nll, windows, predicted_machine_id, window_scores, degenerate,
//  max_output_range_steps, output_ranges}
nlohmann::ordered_json clip_json(const std::string& path, int output_index, const ClipResult& result);

}  // namespace micronet_ad::host
