// Calibrated thresholds saved as JSON, tied to the model file (SHA-1) and the kind of score
// they were calibrated on, so that they are never applied to another model or score:
//
// {
//   "format": "micronet-ad-thresholds", "version": 1,
//   "model_sha1": "c54a0f0ddac24f2e62b48f26d8bee664d58c49b8",
//   "score_kind": "neg_softmax",            // or "nll"
//   "method": "gamma",                      // or "empirical"
//   "quantile": 0.9,
//   "machines": {
//     "id_00": {"threshold": -0.52, "clips": 75,
//               "gamma": {"shape": 3.1, "loc": -1.2, "scale": 0.2}}   // method "gamma" only
//   }
// }
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "host/eval/calibration.h"
#include "host/eval/gamma.h"
#include "micronet_ad/detector.h"

namespace micronet_ad::host {

// Thresholds files hold the softmax methods' thresholds (distance thresholds live in profiles).
std::string to_string(ScoreMethod method);
// "neg_softmax", "nll" or "distance"; throws std::invalid_argument otherwise.
ScoreMethod parse_score_kind(const std::string& text);

struct MachineThreshold {
  double threshold = 0.0;
  std::size_t clips = 0;  // normal clips calibrated on
  std::optional<GammaDistribution> gamma;
};

struct ThresholdSet {
  std::string model_sha1;  // 40 lowercase hex digits
  ScoreMethod score_kind = ScoreMethod::kNegSoftmax;
  ThresholdMethod method = ThresholdMethod::kEmpirical;
  double quantile = 0.9;
  // By machine: "id_XX" (softmax methods: the model's outputs), a profile name (distance).
  std::map<std::string, MachineThreshold> machines;
};

// Pretty-printed JSON (numbers round-trip exactly). Throws std::invalid_argument when the set
// would not pass parse_thresholds_json's checks.
std::string thresholds_to_json(const ThresholdSet& set);

// Parses and validates: the format tag and version, a 40-hex-digit model_sha1 (stored
// lowercase), known score_kind and method, quantile in (0, 1), at least one machine, every key
// "id_<digits>" with a finite threshold, clips >= 1 and, if present, a gamma with positive finite
// shape and scale and finite loc. Throws std::runtime_error "<source>: <what is wrong>".
ThresholdSet parse_thresholds_json(std::string_view text, const std::string& source);

// Throws std::runtime_error "<source>: ..." unless the set was made for this model and score.
void check_thresholds_match(const ThresholdSet& set, const std::string& model_sha1, ScoreMethod score_kind,
                            const std::string& source);

void write_thresholds(const std::string& path, const ThresholdSet& set);
// read + parse + check_thresholds_match; errors name the path.
ThresholdSet load_thresholds(const std::string& path, const std::string& model_sha1, ScoreMethod score_kind);
// The thresholds file of a service (`command`: serve, worker) for this model: machine-ID scores
// (neg_softmax or nll) only, since a service takes distance thresholds from the machine profiles
// (--profile); a distance file would be applied to scores that are not distances.
ThresholdSet load_service_thresholds(const std::string& path, const std::string& model_sha1,
                                     const std::string& command);

}  // namespace micronet_ad::host
