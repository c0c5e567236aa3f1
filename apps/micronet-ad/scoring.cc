#include "scoring.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

#include "host/eval/dcase_csv.h"
#include "host/io/default_model.h"
#include "host/io/sha1.h"

namespace micronet_ad::cli {
namespace {

// More files than this (and a terminal on stderr) earn a progress bar.
constexpr std::size_t kProgressMinFiles = 8;

class ProgressBar {
 public:
  ProgressBar(std::size_t total, bool enabled) : total_(total), enabled_(enabled) {}
  void update(std::size_t done) {
    if (!enabled_) return;
    constexpr int kWidth = 40;
    const int filled = static_cast<int>(kWidth * done / total_);
    std::fprintf(stderr, "\r[%s%s] %zu/%zu", std::string(filled, '#').c_str(), std::string(kWidth - filled, ' ').c_str(),
                 done, total_);
    if (done == total_) clear();  // leave the terminal clean
    std::fflush(stderr);
  }
  // Erases the bar before anything else is printed to the terminal.
  void clear() {
    if (enabled_) std::fputs("\r\033[K", stderr);
  }

 private:
  std::size_t total_;
  bool enabled_;
};

}  // namespace

void add_scoring_options(CLI::App* cmd, ScoringOptions* options, bool with_thresholds) {
  cmd->add_option_function<std::string>(
         "--score-kind", [options](const std::string& v) { options->kind = host::parse_score_kind(v); },
         "Clip score: neg_softmax (mean over windows of -p[id], the kit's and the paper's score), nll (mean of "
         "-log p[id]) or distance (mean distance to the machine's profile; the default with --profile)")
      ->check(CLI::IsMember({"neg_softmax", "nll", "distance"}));
  if (with_thresholds) {
    cmd->add_option("--thresholds", options->thresholds,
                    "Thresholds JSON from `calibrate` (same model and score kind): a decision per clip, anomalous "
                    "when its score exceeds its machine's threshold");
  }
  cmd->add_option("--profile", options->profile,
                  "Machine profile from `enrol` (FILE: for every clip), or a directory of them (DIR: found by "
                  "machine name, --machine-id or the DCASE ID); scores by distance, decides by the profile's "
                  "threshold");
}

Scoring load_scoring(const ScoringOptions& options, const host::ModelFile& file, Framing framing, Resize resize) {
  Scoring scoring;
  const std::string sha1 = model_sha1(file);
  if (!options.profile.empty()) {
    scoring.profiles = std::make_unique<host::ProfileSet>(host::ProfileSet::load(options.profile, sha1, framing, resize));
    if (scoring.profiles->names().empty())
      throw std::runtime_error(options.profile + ": no profiles (*" + host::kProfileExtension + ") in the directory");
  }
  const ScoreMethod method = options.kind.value_or(scoring.profiles ? ScoreMethod::kDistance : ScoreMethod::kNegSoftmax);
  if (method == ScoreMethod::kDistance && !scoring.profiles)
    throw std::runtime_error("--score-kind distance needs --profile (enrol the machine first)");
  std::optional<host::ThresholdSet> thresholds;
  if (!options.thresholds.empty()) thresholds = host::load_thresholds(options.thresholds, sha1, method);
  scoring.judge = host::Judge(method, std::move(thresholds), options.thresholds);
  return scoring;
}

std::string score_kind_label(ScoreMethod kind) {
  switch (kind) {
    case ScoreMethod::kNll: return "score: mean -log p[id]";
    case ScoreMethod::kDistance: return "score: mean distance to the machine's profile";
    case ScoreMethod::kNegSoftmax: break;
  }
  return "score: mean -p[id]";
}

std::string model_sha1(const host::ModelFile& file) { return host::sha1_hex(file.bytes(), file.model.size()); }

std::string machine_key(int output_index) {
  const char* id = machine_id_of_output(output_index);
  return std::string("id_") + (id ? id : "??");
}

void score_with_progress(const Model& model, const host::BatchOptions& options,
                         const std::vector<host::ClipInput>& inputs,
                         const std::function<void(std::size_t, host::ClipOutcome&)>& emit) {
  ProgressBar progress(inputs.size(), ::isatty(STDERR_FILENO) && inputs.size() > kProgressMinFiles);
  host::score_clips(model, options, inputs, [&](std::size_t i, host::ClipOutcome& o) {
    progress.clear();
    emit(i, o);
    progress.update(i + 1);
  });
}

void warn_if_degenerate(const host::ModelFile& file, std::size_t degenerate, std::size_t scored) {
  if (degenerate == 0) return;
  // Pointing to the default only helps when another model is in use.
  const char* hint = host::is_default_model(file) ? "" : " (ad_medium is the default model)";
  std::fprintf(stderr,
               "micronet-ad: warning: %s: %zu of %zu clips are degenerate: no output moved more than %d "
               "quantization steps across their windows, so the model barely responds to its input (SPEC §4); "
               "scores from it mean little%s\n",
               file.path.c_str(), degenerate, scored, kDegenerateMaxSteps, hint);
}

void warn_about_undefined(const std::vector<host::IdMetrics>& ids) {
  for (const host::IdMetrics& id : ids) {
    if (id.auc) continue;
    std::fprintf(stderr,
                 "micronet-ad: warning: %s has %zu normal and %zu anomalous clips: AUC and pAUC are undefined "
                 "and left out of the Average\n",
                 id.machine_id.c_str(), id.n_normal, id.n_anomaly);
  }
}

host::ReportClip report_clip(const std::string& name, const host::ClipOutcome& outcome, ScoreMethod kind) {
  host::ReportClip clip;
  clip.name = name;
  if (const auto label = host::parse_clip_label(name)) clip.anomalous = label->anomalous;
  clip.score = clip_score(*outcome.result, kind);
  clip.window_scores = outcome.result->window_scores_of(kind);
  clip.frames = outcome.logmel.size();
  if (!outcome.logmel.empty()) clip.spectrogram_png = host::spectrogram_png(outcome.logmel);
  return clip;
}

std::vector<std::pair<std::string, std::string>> report_facts(const host::ModelFile& file, ScoreMethod kind,
                                                              const host::BatchOptions& options) {
  return {{"model", file.path},
          {"model SHA-1", model_sha1(file)},
          {"score kind", host::to_string(kind) + " (" + score_kind_label(kind) + ")"},
          {"framing", to_string(options.framing)},
          {"resize", to_string(options.resize)}};
}

}  // namespace micronet_ad::cli
