#include "host/detect/judge.h"

#include <stdexcept>

namespace micronet_ad::host {

Judge::Judge(ScoreMethod method, std::optional<ThresholdSet> thresholds, std::string source)
    : method_(method), thresholds_(std::move(thresholds)), source_(std::move(source)) {
  if (thresholds_ && thresholds_->score_kind != method_)
    throw std::runtime_error(source_ + ": thresholds were calibrated on '" + to_string(thresholds_->score_kind) +
                             "' scores, not on '" + to_string(method_) + "'");
}

std::string Judge::machine_key(int output_index, const Profile* profile) const {
  if (method_ == ScoreMethod::kDistance) return profile ? profile->header().name : "";
  const char* id = machine_id_of_output(output_index);
  return id ? std::string("id_") + id : "";
}

std::optional<double> Judge::find_threshold(int output_index, const Profile* profile) const {
  if (thresholds_) {
    const auto it = thresholds_->machines.find(machine_key(output_index, profile));
    if (it != thresholds_->machines.end()) return it->second.threshold;
    return std::nullopt;
  }
  if (method_ == ScoreMethod::kDistance && profile != nullptr) return profile->header().threshold;
  return std::nullopt;
}

std::optional<double> Judge::threshold(int output_index, const Profile* profile) const {
  const std::optional<double> found = find_threshold(output_index, profile);
  if (found || !thresholds_) return found;
  const std::string key = machine_key(output_index, profile);
  std::string known;
  for (const auto& [id, machine] : thresholds_->machines) known += (known.empty() ? "" : ", ") + id;
  throw std::runtime_error(source_ + ": no threshold for machine " + (key.empty() ? "?" : key) + " (it has " + known +
                           "); calibrate that machine's normal clips too");
}

Verdict Judge::judge(const ClipScore& clip, int output_index, const Profile* profile) const {
  Verdict v = judge_if_known(clip, output_index, profile);
  v.threshold = threshold(output_index, profile);
  return v;
}

Verdict Judge::judge_if_known(const ClipScore& clip, int output_index, const Profile* profile) const {
  Verdict v;
  v.score = clip[method_];
  v.machine = machine_key(output_index, profile);
  v.threshold = find_threshold(output_index, profile);
  return v;
}

ServiceJudge::ServiceJudge(const std::optional<ThresholdSet>& thresholds)
    : by_thresholds_(thresholds ? thresholds->score_kind : ScoreMethod::kNegSoftmax, thresholds) {}

ScoreMethod ServiceJudge::method(const Profile* profile) const {
  return profile ? by_profile_.method() : by_thresholds_.method();
}

Verdict ServiceJudge::judge(const ClipScore& clip, int output_index, const Profile* profile) const {
  return profile ? by_profile_.judge_if_known(clip, output_index, profile)
                 : by_thresholds_.judge_if_known(clip, output_index, nullptr);
}

}  // namespace micronet_ad::host
