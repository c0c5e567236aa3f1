#include "scoring.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

#include "host/eval/dcase_csv.h"
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

// -log p from a window score -p; p is never 0 in practice (softmax of 8 bounded logits).
double nll_of(double neg_probability) {
  return -std::log(std::max(-neg_probability, std::numeric_limits<double>::min()));
}

}  // namespace

void add_score_kind_option(CLI::App* cmd, host::ScoreKind* kind) {
  cmd->add_option_function<std::string>(
         "--score-kind", [kind](const std::string& v) { *kind = host::parse_score_kind(v); },
         "Clip score: neg_softmax (default: mean over windows of -p[id], the kit's and the paper's score) or nll "
         "(mean of -log p[id]); thresholds are tied to it")
      ->check(CLI::IsMember({"neg_softmax", "nll"}));
}

double clip_score(const host::ClipResult& result, host::ScoreKind kind) {
  return kind == host::ScoreKind::kNll ? result.clip.nll : result.clip.score;
}

std::vector<double> window_scores(const host::ClipResult& result, host::ScoreKind kind) {
  if (kind == host::ScoreKind::kNegSoftmax) return result.window_scores;
  std::vector<double> out;
  for (double s : result.window_scores) out.push_back(nll_of(s));
  return out;
}

std::string score_kind_label(host::ScoreKind kind) {
  return kind == host::ScoreKind::kNll ? "score: mean -log p[id]" : "score: mean -p[id]";
}

std::string model_sha1(const host::ModelFile& file) { return host::sha1_hex(file.bytes(), file.model.size()); }

std::string machine_key(int output_index) {
  const char* id = machine_id_of_output(output_index);
  return std::string("id_") + (id ? id : "??");
}

double threshold_for(const host::ThresholdSet& set, const std::string& machine_id, const std::string& source) {
  const auto it = set.machines.find(machine_id);
  if (it != set.machines.end()) return it->second.threshold;
  std::string known;
  for (const auto& [id, machine] : set.machines) known += (known.empty() ? "" : ", ") + id;
  throw std::runtime_error(source + ": no threshold for machine " + machine_id + " (it has " + known +
                           "); calibrate that machine's normal clips too");
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

void warn_if_degenerate(const std::string& model_path, std::size_t degenerate, std::size_t scored) {
  if (degenerate == 0) return;
  std::fprintf(stderr,
               "micronet-ad: warning: %s: %zu of %zu clips are degenerate: no output moved more than %d "
               "quantization steps across their windows, so the model barely responds to its input (SPEC §4); "
               "scores from it mean little (ad_medium is the default model)\n",
               model_path.c_str(), degenerate, scored, kDegenerateMaxSteps);
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

host::ReportClip report_clip(const std::string& name, const host::ClipOutcome& outcome, host::ScoreKind kind) {
  host::ReportClip clip;
  clip.name = name;
  if (const auto label = host::parse_clip_label(name)) clip.anomalous = label->anomalous;
  clip.score = clip_score(*outcome.result, kind);
  clip.window_scores = window_scores(*outcome.result, kind);
  clip.frames = outcome.logmel.size();
  if (!outcome.logmel.empty()) clip.spectrogram_png = host::spectrogram_png(outcome.logmel);
  return clip;
}

std::vector<std::pair<std::string, std::string>> report_facts(const host::ModelFile& file, host::ScoreKind kind,
                                                              const host::BatchOptions& options) {
  return {{"model", file.path},
          {"model SHA-1", model_sha1(file)},
          {"score kind", host::to_string(kind) + " (" + score_kind_label(kind) + ")"},
          {"framing", to_string(options.framing)},
          {"resize", to_string(options.resize)}};
}

}  // namespace micronet_ad::cli
