// What score, eval and calibrate share on top of host::score_clips: the score kind, the model's
// identity for threshold files, the progress bar and the report's per-clip data; and what the
// services (serve, worker) load before they start.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "host/detect/batch_scorer.h"
#include "host/detect/judge.h"
#include "host/detect/profile_set.h"
#include "host/eval/metrics.h"
#include "host/eval/thresholds.h"
#include "host/io/model_file.h"
#include "host/report/html_report.h"

namespace micronet_ad::cli {

// How a command scores: --score-kind, --thresholds and --profile.
struct ScoringOptions {
  std::optional<ScoreMethod> kind;  // --score-kind; default neg_softmax, or distance with --profile
  std::string thresholds;           // --thresholds FILE
  std::string profile;              // --profile FILE|DIR
};
void add_scoring_options(CLI::App* cmd, ScoringOptions* options, bool with_thresholds = true);

// What the options name, loaded and checked against the model and front-end mode.
struct Scoring {
  std::unique_ptr<host::ProfileSet> profiles;  // with --profile
  host::Judge judge;
  ScoreMethod method() const { return judge.method(); }
  // Whether each clip gets a decision: with thresholds, or by distance (a profile's threshold).
  bool decides() const { return judge.has_thresholds() || method() == ScoreMethod::kDistance; }
  const host::ProfileSet* profile_set() const { return profiles.get(); }
};
Scoring load_scoring(const ScoringOptions& options, const host::ModelFile& file, Framing framing, Resize resize);

// The clip's score of that method (its mean window score).
inline double clip_score(const host::ClipResult& result, ScoreMethod kind) { return result.clip[kind]; }
// Axis label for the report, e.g. "score: mean -p[id]".
std::string score_kind_label(ScoreMethod kind);

// "id_00" for output index 0.
std::string machine_key(int output_index);
// "00" for output index 0; "-" for none (−1) or an index the model has no machine for.
std::string machine_id_text(int output_index);

// "[#####     ] 3/7 clips" on stderr, redrawn in place, only when stderr is a terminal (a log
// file or pipe gets none) and there is more than one clip; within a long clip (scored in
// chunks, host::kProgressSamples), "0/1 clips, clip 1 at 42 %" even for one. Erased when done.
// Thread-safe: the scoring threads report progress within clips.
class ProgressBar {
 public:
  explicit ProgressBar(std::size_t total);
  bool enabled() const { return tty_; }
  void update(std::size_t done);  // clips done
  // Clip `index` has `done` of its `total` samples scored; shown for the clip the bar waits on.
  void clip_progress(std::size_t index, std::size_t done, std::size_t total);
  void clear();  // erases the bar before anything else is printed to the terminal

 private:
  void draw(double clips_done, const std::string& suffix);  // with mutex_ held

  std::mutex mutex_;
  const std::size_t total_;
  const bool tty_;
  std::size_t done_ = 0;
  bool shown_ = false;  // something is drawn
};

// Fails at once (std::runtime_error, exit 1) when `path` cannot be written, so a mistyped output
// path costs nothing instead of all the scoring before it. A file that did not exist is removed
// again. `what` names the option, e.g. "--report".
void check_writable_file(const std::string& path, const char* what);
// The same for an output folder, which may be missing (the command creates it later): it, or the
// nearest of its parents that exists, must be a writable folder.
void check_writable_dir(const std::string& path, const char* what);

// Warnings about clips the model sees differently from its training audio, gathered over a run
// and printed once: files sampled below 16 kHz (the mel bands above their Nyquist frequency are
// empty) and clips shorter than kShortClipSeconds (few windows: a score resting on little).
class ClipWarnings {
 public:
  void observe(const std::string& path, const host::ClipOutcome& outcome);
  void print() const;

 private:
  struct Example {
    std::string path;
    double value = 0.0;  // the rate (Hz) or the length (s)
    long long windows = 0;
  };
  std::size_t low_rate_ = 0, short_ = 0;
  Example low_rate_example_, short_example_;
};
inline constexpr double kShortClipSeconds = 2.0;

// What a run over many clips tallies besides its results: the clips that failed (each named on
// stderr as it fails), the degenerate ones and the ClipWarnings, whose warnings print at the end.
class ClipTally {
 public:
  // False for a clip that failed (said now on stderr), true for a scored one.
  bool observe(const std::string& path, const host::ClipOutcome& outcome);
  // warn_if_degenerate, then the ClipWarnings.
  void print_warnings(const host::ModelFile& file) const;
  std::size_t failures() const { return failures_; }
  std::size_t scored() const { return scored_; }

 private:
  std::size_t failures_ = 0, scored_ = 0, degenerate_ = 0;
  ClipWarnings warnings_;
};

// `inputs` without the clips whose DCASE name labels them anomalous (inputs that already carry an
// error stay, to be reported), with one warning on stderr ending in `why` when some were left out.
std::vector<host::ClipInput> drop_anomalies(std::vector<host::ClipInput> inputs, const char* why);

// Scores `inputs` with a progress bar on a terminal (stderr) for batches worth one.
void score_with_progress(const Model& model, const host::BatchOptions& options,
                         const std::vector<host::ClipInput>& inputs,
                         const std::function<void(std::size_t, host::ClipOutcome&)>& emit);

// Warns on stderr about a model whose outputs barely moved (docs/scores.md).
void warn_if_degenerate(const host::ModelFile& file, std::size_t degenerate, std::size_t scored);

// Warns on stderr about IDs whose AUC/pAUC are undefined (left out of the Average).
void warn_about_undefined(const std::vector<host::IdMetrics>& ids);

// The report's view of one scored clip (spectrogram encoded now, so the log-mel can be dropped).
host::ReportClip report_clip(const std::string& name, const host::ClipOutcome& outcome, ScoreMethod kind);

// Facts at the top of a report: model, its SHA-1, score kind, framing and resize.
std::vector<std::pair<std::string, std::string>> report_facts(const host::ModelFile& file, ScoreMethod kind,
                                                              const host::BatchOptions& options);

// A service's --thresholds FILE (serve, worker: `command` names it in errors) for this model:
// machine-ID scores only (host::load_service_thresholds); none when `path` is empty.
std::optional<host::ThresholdSet> service_thresholds(const std::string& path, const host::ModelFile& file,
                                                     const char* command);

}  // namespace micronet_ad::cli
