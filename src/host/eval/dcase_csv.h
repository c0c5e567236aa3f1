// DCASE 2020 Task 2 file conventions (docs/scores.md): clip names carry the label and the machine ID,
// score files are `file,score` rows without a header, one file per machine type and ID.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace micronet_ad::host {

// What a clip's name `{normal,anomaly}_id_XX_NNNNNNNN.wav` says.
struct ClipLabel {
  bool anomalous = false;
  std::string machine_id;  // "id_XX", from the third `_` field
};

// Parses the base name of `file` (any directory part is ignored). std::nullopt when the name
// does not start with normal_id_<digits>_ or anomaly_id_<digits>_.
std::optional<ClipLabel> parse_clip_label(std::string_view file);

// True for "id_" followed by one or more decimal digits.
bool is_machine_id(std::string_view text);

// One `file,score` row.
struct ScoreRow {
  std::string file;
  double score = 0.0;
  std::size_t line = 0;  // 1-based line in the CSV it was read from; 0 when not read from one
};

// Parses score CSV text. `source` names the text in errors ("<source>:<line>: ..."). Accepts LF
// or CRLF line ends, a missing or present final newline, a UTF-8 byte-order mark, and skips
// blank lines. Every other line must be `<file>,<score>` with exactly one comma, a non-empty
// file and a finite number (surrounding spaces allowed); anything else throws
// std::runtime_error naming source and line.
std::vector<ScoreRow> parse_score_csv(std::string_view text, const std::string& source);
// Reads and parses a score CSV file (errors name the path and line).
std::vector<ScoreRow> read_score_csv(const std::string& path);

// `file,score` lines, LF line ends, scores in shortest round-trip form.
std::string format_score_csv(const std::vector<ScoreRow>& rows);
void write_score_csv(const std::string& path, const std::vector<ScoreRow>& rows);

// "anomaly_score_<machine_type>_<machine_id>.csv", e.g. anomaly_score_slider_id_00.csv.
std::string score_csv_name(const std::string& machine_type, const std::string& machine_id);

// The DCASE 2021 decision file: `file,decision` lines without a header, LF line ends, decision 1
// when the row's score exceeds `threshold` (is_anomalous), else 0.
std::string format_decision_csv(const std::vector<ScoreRow>& rows, double threshold);
void write_decision_csv(const std::string& path, const std::vector<ScoreRow>& rows, double threshold);
// "decision_result_<machine_type>_<machine_id>.csv", e.g. decision_result_slider_id_00.csv.
std::string decision_csv_name(const std::string& machine_type, const std::string& machine_id);

// What a score file name `anomaly_score_<type>_id_XX.csv` says (directory part ignored).
struct ScoreCsvName {
  std::string machine_type;
  std::string machine_id;  // "id_XX"
};
std::optional<ScoreCsvName> parse_score_csv_name(std::string_view path);

}  // namespace micronet_ad::host
