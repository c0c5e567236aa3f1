#include "scoring.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <stdexcept>

#include "host/eval/dcase_csv.h"
#include "host/io/default_model.h"
#include "host/io/model_info.h"

namespace micronet_ad::cli {

namespace fs = std::filesystem;

ProgressBar::ProgressBar(std::size_t total) : total_(total), tty_(::isatty(STDERR_FILENO) != 0 && total > 0) {}

void ProgressBar::draw(double clips_done, const std::string& suffix) {
  constexpr int kWidth = 40;
  const int filled = std::clamp(static_cast<int>(kWidth * clips_done / static_cast<double>(total_)), 0, kWidth);
  shown_ = true;
  std::fprintf(stderr, "\r\033[K[%s%s] %zu/%zu clips%s", std::string(filled, '#').c_str(),
               std::string(kWidth - filled, ' ').c_str(), done_, total_, suffix.c_str());
  std::fflush(stderr);
}

void ProgressBar::update(std::size_t done) {
  std::lock_guard<std::mutex> lock(mutex_);
  done_ = done;
  if (!tty_) return;
  if (total_ > 1) draw(static_cast<double>(done), "");
  if (done == total_ && (total_ > 1 || shown_)) std::fputs("\r\033[K", stderr);  // leave the terminal clean
  std::fflush(stderr);
}

void ProgressBar::clip_progress(std::size_t index, std::size_t done, std::size_t total) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!tty_ || index != done_ || total == 0) return;
  const double fraction = static_cast<double>(done) / static_cast<double>(total);
  draw(static_cast<double>(done_) + fraction,
       ", clip " + std::to_string(index + 1) + " at " + std::to_string(static_cast<int>(100 * fraction)) + " %");
}

void ProgressBar::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (tty_ && shown_) std::fputs("\r\033[K", stderr);
}

void check_writable_file(const std::string& path, const char* what) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw std::runtime_error(path + ": cannot write " + what + ": it is a directory");
  const bool existed = fs::exists(path, ec);
  // Opening for append neither truncates an existing file nor depends on access() rules (root).
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error(path + ": cannot write " + what + ": " + std::strerror(errno));
  ::close(fd);
  if (!existed) fs::remove(path, ec);
}

void check_writable_dir(const std::string& path, const char* what) {
  // Not created here: a run refused later (e.g. for its thresholds) should leave nothing behind.
  // What would be created must hang below an existing, writable folder.
  std::error_code ec;
  fs::path existing = fs::absolute(path, ec);
  while (!fs::exists(existing, ec) && existing.has_relative_path()) existing = existing.parent_path();
  if (!fs::is_directory(existing, ec)) {
    throw std::runtime_error(path + ": cannot create the " + what + " folder: " + existing.string() + ": " +
                             std::strerror(ENOTDIR));
  }
  if (::access(existing.c_str(), W_OK) != 0) {
    throw std::runtime_error(path + ": cannot write into the " + what + " folder: " + existing.string() + ": " +
                             std::strerror(errno));
  }
}

void ClipWarnings::observe(const std::string& path, const host::ClipOutcome& outcome) {
  if (!outcome.result) return;
  if (outcome.source_rate > 0 && outcome.source_rate / 2.0 < kMelMaxHz) {
    if (low_rate_++ == 0) low_rate_example_ = {path, static_cast<double>(outcome.source_rate), 0};
  }
  if (outcome.seconds < kShortClipSeconds) {
    if (short_++ == 0) short_example_ = {path, outcome.seconds, static_cast<long long>(outcome.result->clip.windows)};
  }
}

void ClipWarnings::print() const {
  if (low_rate_ > 0) {
    std::fprintf(stderr,
                 "micronet-ad: warning: %zu clip(s) sampled below %.0f Hz (e.g. %s at %.0f Hz): the mel bands above "
                 "half their rate (%.0f Hz) are empty, unlike the 16 kHz training audio, so scores may be off\n",
                 low_rate_, 2 * kMelMaxHz, low_rate_example_.path.c_str(), low_rate_example_.value,
                 low_rate_example_.value / 2);
  }
  if (short_ > 0) {
    std::fprintf(stderr,
                 "micronet-ad: warning: %zu clip(s) shorter than %.0f s (e.g. %s: %.2f s, %lld window(s) scored; the "
                 "model was trained on 10 s clips of 13 windows): their scores rest on little audio\n",
                 short_, kShortClipSeconds, short_example_.path.c_str(), short_example_.value, short_example_.windows);
  }
}

bool ClipTally::observe(const std::string& path, const host::ClipOutcome& outcome) {
  if (!outcome.result) {
    ++failures_;
    std::fprintf(stderr, "micronet-ad: error: %s\n", outcome.error.c_str());
    return false;
  }
  ++scored_;
  if (outcome.result->clip.degenerate()) ++degenerate_;
  warnings_.observe(path, outcome);
  return true;
}

void ClipTally::print_warnings(const host::ModelFile& file) const {
  warn_if_degenerate(file, degenerate_, scored_);
  warnings_.print();
}

std::vector<host::ClipInput> drop_anomalies(std::vector<host::ClipInput> inputs, const char* why) {
  std::size_t dropped = 0;
  std::string example;
  std::vector<host::ClipInput> kept;
  for (host::ClipInput& input : inputs) {
    const auto label = host::parse_clip_label(input.path);
    if (input.error.empty() && label && label->anomalous) {
      if (dropped++ == 0) example = input.path;
      continue;
    }
    kept.push_back(std::move(input));
  }
  if (dropped > 0) {
    std::fprintf(stderr, "micronet-ad: warning: skipping %zu clips labelled anomalous (e.g. %s): %s\n", dropped,
                 example.c_str(), why);
  }
  return kept;
}

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
  const std::string sha1 = host::model_sha1(file);
  if (!options.profile.empty()) {
    scoring.profiles =
        std::make_unique<host::ProfileSet>(host::ProfileSet::load(options.profile, sha1, framing, resize));
    if (scoring.profiles->names().empty())
      throw std::runtime_error(options.profile + ": no profiles (*" + host::kProfileExtension + ") in the directory");
  }
  const ScoreMethod method =
      options.kind.value_or(scoring.profiles ? ScoreMethod::kDistance : ScoreMethod::kNegSoftmax);
  if (method == ScoreMethod::kDistance && !scoring.profiles)
    throw std::runtime_error("--score-kind distance needs --profile (enrol the machine first)");
  std::optional<host::ThresholdSet> thresholds;
  if (!options.thresholds.empty()) thresholds = host::load_thresholds(options.thresholds, sha1, method);
  scoring.judge = host::Judge(method, std::move(thresholds), options.thresholds);
  return scoring;
}

std::string score_kind_label(ScoreMethod kind) {
  switch (kind) {
    case ScoreMethod::kNll:
      return "score: mean -log p[id]";
    case ScoreMethod::kDistance:
      return "score: mean distance to the machine's profile";
    case ScoreMethod::kNegSoftmax:
      break;
  }
  return "score: mean -p[id]";
}

std::string machine_key(int output_index) {
  const char* id = machine_id_of_output(output_index);
  return std::string("id_") + (id ? id : "??");
}

std::string machine_id_text(int output_index) {
  const char* id = machine_id_of_output(output_index);
  return id ? id : "-";
}

std::optional<host::ThresholdSet> service_thresholds(const std::string& path, const host::ModelFile& file,
                                                     const char* command) {
  if (path.empty()) return std::nullopt;
  return host::load_service_thresholds(path, host::model_sha1(file), command);
}

void score_with_progress(const Model& model, const host::BatchOptions& options,
                         const std::vector<host::ClipInput>& inputs,
                         const std::function<void(std::size_t, host::ClipOutcome&)>& emit) {
  ProgressBar progress(inputs.size());
  host::BatchOptions with_progress = options;
  if (progress.enabled()) {
    with_progress.clip_progress = [&progress](std::size_t i, std::size_t done, std::size_t total) {
      progress.clip_progress(i, done, total);
    };
  }
  host::score_clips(model, with_progress, inputs, [&](std::size_t i, host::ClipOutcome& o) {
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
               "quantization steps across their windows, so the model barely responds to its input (docs/models.md); "
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
          {"model SHA-1", host::model_sha1(file)},
          {"score kind", host::to_string(kind) + " (" + score_kind_label(kind) + ")"},
          {"framing", to_string(options.framing)},
          {"resize", to_string(options.resize)}};
}

}  // namespace micronet_ad::cli
