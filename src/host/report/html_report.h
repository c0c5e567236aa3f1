// The evaluation report: one self-contained HTML file (no scripts, no network) with the results
// table, a ROC curve and a score histogram per machine ID, and every clip's log-mel spectrogram
// (an embedded PNG) above its per-window scores. Charts are inline SVG.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "host/eval/metrics.h"
#include "micronet_ad/frontend.h"

namespace micronet_ad::host {

// dB below a clip's loudest value that the spectrogram's colour scale spans.
inline constexpr double kSpectrogramRangeDb = 80.0;

// Widest spectrogram picture. A long clip (an hour is 112,500 frames) is squeezed to this many
// columns, each the mean of its frames: wider gains nothing on a screen, and libpng refuses
// images over 1,000,000 pixels wide.
inline constexpr std::size_t kSpectrogramMaxColumns = 4096;
// Columns of the picture spectrogram_png() makes of `frames` frames.
inline std::size_t spectrogram_columns(std::size_t frames) { return std::min(frames, kSpectrogramMaxColumns); }

// A log-mel matrix (frames x 64 dB values) as a palette PNG, time left to right, the highest
// band at the top; colours span [max - kSpectrogramRangeDb, max] of the clip. One column per
// frame up to kSpectrogramMaxColumns, beyond that each column averages its share of the frames.
std::vector<std::uint8_t> spectrogram_png(const std::vector<std::array<float, kMelBands>>& logmel);

struct ReportClip {
  std::string name;                           // shown, e.g. the file name
  std::optional<bool> anomalous;              // label from the file name; std::nullopt when unlabelled
  double score = 0.0;                         // clip score of the report's score kind
  std::optional<bool> decision;               // true: declared anomalous (when a threshold applies)
  std::vector<double> window_scores;          // per window, same score kind
  std::vector<std::uint8_t> spectrogram_png;  // from spectrogram_png(); empty: none
  std::size_t frames = 0;                     // columns of the spectrogram
};

struct ReportMachine {
  std::string title;                     // e.g. "slider id_00"
  std::vector<std::size_t> clips;        // indices into ReportData::clips
  IdMetrics metrics;                     // metrics.machine_id is the table's id column
  std::optional<IdDecisions> decisions;  // when a threshold applies
};

struct ReportData {
  std::string title;
  std::vector<std::pair<std::string, std::string>> facts;  // shown as a list: model, score kind, ...
  std::string score_label;                                 // axis label, e.g. "score (mean -p[id])"
  std::vector<ReportMachine> machines;
  std::vector<ReportClip> clips;
};

// The whole HTML document. Throws std::invalid_argument when a machine names a clip that does not
// exist.
std::string render_html_report(const ReportData& data);
// Renders and writes; throws std::runtime_error naming the file when it cannot be written.
void write_html_report(const std::string& path, const ReportData& data);

}  // namespace micronet_ad::host
