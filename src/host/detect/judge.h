// How a command scores and judges clips, in one place for score, eval, stream and serve: one
// score method, and each clip's threshold from a thresholds file (calibrate) or, for distance,
// from the clip's profile (enrol). The decision itself is the core's is_anomalous().
#pragma once

#include <optional>
#include <string>

#include "host/eval/thresholds.h"
#include "micronet_ad/detector.h"

namespace micronet_ad::host {

struct Verdict {
  double score = 0.0;
  std::optional<double> threshold;  // none: no decision
  std::string machine;              // the key the threshold was looked up by
  bool anomalous() const { return threshold && is_anomalous(score, *threshold); }
};

class Judge {
 public:
  // `thresholds` (optional) must have been calibrated on `method` scores for this model
  // (check_thresholds_match); `source` names it in errors.
  explicit Judge(ScoreMethod method = ScoreMethod::kNegSoftmax, std::optional<ThresholdSet> thresholds = {},
                 std::string source = {});
  ScoreMethod method() const { return method_; }
  bool has_thresholds() const { return thresholds_.has_value(); }

  // The machine a clip's threshold belongs to: its profile's name for distance, else "id_XX".
  std::string machine_key(int output_index, const Profile* profile) const;
  // Its threshold: the thresholds file's for that machine (a runtime_error naming the file and
  // the machines it has when missing), else the profile's for distance, else none.
  std::optional<double> threshold(int output_index, const Profile* profile) const;
  // The same, but none when the thresholds file lacks the machine: for services, which answer
  // such a clip without a decision rather than refuse it.
  std::optional<double> find_threshold(int output_index, const Profile* profile) const;
  Verdict judge(const ClipScore& clip, int output_index, const Profile* profile) const;
  Verdict judge_if_known(const ClipScore& clip, int output_index, const Profile* profile) const;

 private:
  ScoreMethod method_;
  std::optional<ThresholdSet> thresholds_;
  std::string source_;
};

// How a service (serve, worker) judges a clip: by its profile when it has one (distance, the
// profile's threshold), else by the thresholds file's threshold for its machine ID. A clip whose
// machine has no threshold gets no decision: a service answers it rather than refuse it.
class ServiceJudge {
 public:
  // `thresholds`: neg_softmax or nll thresholds per machine ID (calibrate), or none.
  explicit ServiceJudge(const std::optional<ThresholdSet>& thresholds = {});
  ScoreMethod method(const Profile* profile) const;
  Verdict judge(const ClipScore& clip, int output_index, const Profile* profile) const;

 private:
  Judge by_profile_{ScoreMethod::kDistance};
  Judge by_thresholds_;
};

}  // namespace micronet_ad::host
