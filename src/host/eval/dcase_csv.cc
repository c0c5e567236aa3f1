#include "host/eval/dcase_csv.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <system_error>

#include <fmt/format.h>

#include "host/io/file.h"
#include "host/io/text_table.h"
#include "micronet_ad/detector.h"

namespace micronet_ad::host {
namespace {

std::string_view base_name(std::string_view path) {
  const std::size_t slash = path.find_last_of("/\\");
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool all_digits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool consume_prefix(std::string_view& text, std::string_view prefix) {
  if (text.substr(0, prefix.size()) != prefix) return false;
  text.remove_prefix(prefix.size());
  return true;
}

std::string_view trim_spaces(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

[[noreturn]] void row_error(const std::string& source, std::size_t line, const std::string& what) {
  throw std::runtime_error(fmt::format("{}:{}: {}", source, line, what));
}

double parse_score(std::string_view field, const std::string& source, std::size_t line) {
  std::string_view text = trim_spaces(field);
  // from_chars rejects a leading '+'; accept one, but not a second sign after it.
  if (text.size() > 1 && text.front() == '+' && text[1] != '-' && text[1] != '+') text.remove_prefix(1);
  double value = 0.0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    row_error(source, line,
              fmt::format("score '{}' is not a number (expected 'file,score' rows, no header)", std::string(field)));
  }
  if (!std::isfinite(value)) row_error(source, line, fmt::format("score '{}' is not finite", std::string(field)));
  return value;
}

ScoreRow parse_row(std::string_view text, const std::string& source, std::size_t line) {
  const std::size_t comma = text.find(',');
  if (comma == std::string_view::npos) row_error(source, line, "expected 'file,score', found no comma");
  if (text.find(',', comma + 1) != std::string_view::npos) {
    row_error(source, line, "expected 'file,score', found more than one comma");
  }
  std::string_view file = trim_spaces(text.substr(0, comma));
  if (file.empty()) row_error(source, line, "empty file name");
  return ScoreRow{std::string(file), parse_score(text.substr(comma + 1), source, line), line};
}

}  // namespace

bool is_machine_id(std::string_view text) { return consume_prefix(text, "id_") && all_digits(text); }

std::optional<ClipLabel> parse_clip_label(std::string_view file) {
  std::string_view name = base_name(file);
  ClipLabel label;
  if (consume_prefix(name, "normal_id_")) {
    label.anomalous = false;
  } else if (consume_prefix(name, "anomaly_id_")) {
    label.anomalous = true;
  } else {
    return std::nullopt;
  }
  const std::size_t underscore = name.find('_');
  if (underscore == std::string_view::npos) return std::nullopt;
  const std::string_view digits = name.substr(0, underscore);
  if (!all_digits(digits)) return std::nullopt;
  label.machine_id = "id_" + std::string(digits);
  return label;
}

std::vector<ScoreRow> parse_score_csv(std::string_view text, const std::string& source) {
  consume_prefix(text, "\xEF\xBB\xBF");
  std::vector<ScoreRow> rows;
  std::size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const std::size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (trim_spaces(line).empty()) continue;
    rows.push_back(parse_row(line, source, line_number));
  }
  return rows;
}

std::vector<ScoreRow> read_score_csv(const std::string& path) {
  const std::vector<std::uint8_t> bytes = read_file(path);
  return parse_score_csv(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), path);
}

std::string format_score_csv(const std::vector<ScoreRow>& rows) {
  std::string out;
  for (const ScoreRow& row : rows) {
    if (row.file.find_first_of(",\r\n") != std::string::npos) {
      throw std::invalid_argument("score CSV: file name '" + row.file + "' contains a comma or line break");
    }
    fmt::format_to(std::back_inserter(out), "{},{}\n", row.file, row.score);
  }
  return out;
}

void write_score_csv(const std::string& path, const std::vector<ScoreRow>& rows) {
  const std::string text = format_score_csv(rows);
  write_file(path, text.data(), text.size());
}

std::string score_csv_name(const std::string& machine_type, const std::string& machine_id) {
  return "anomaly_score_" + machine_type + "_" + machine_id + ".csv";
}

std::string format_decision_csv(const std::vector<ScoreRow>& rows, double threshold) {
  const TextTable table(TextFormat::kCsv, {{"file"}, {"decision"}});  // rows only: DCASE's files have no header
  std::string out;
  for (const ScoreRow& row : rows) out += table.row({row.file, is_anomalous(row.score, threshold) ? "1" : "0"});
  return out;
}

void write_decision_csv(const std::string& path, const std::vector<ScoreRow>& rows, double threshold) {
  const std::string text = format_decision_csv(rows, threshold);
  write_file(path, text.data(), text.size());
}

std::string decision_csv_name(const std::string& machine_type, const std::string& machine_id) {
  return "decision_result_" + machine_type + "_" + machine_id + ".csv";
}

std::optional<ScoreCsvName> parse_score_csv_name(std::string_view path) {
  std::string_view name = base_name(path);
  if (!consume_prefix(name, "anomaly_score_")) return std::nullopt;
  constexpr std::string_view kSuffix = ".csv";
  if (name.size() < kSuffix.size() || name.substr(name.size() - kSuffix.size()) != kSuffix) return std::nullopt;
  name.remove_suffix(kSuffix.size());
  const std::size_t id_start = name.rfind("_id_");
  if (id_start == std::string_view::npos || id_start == 0) return std::nullopt;
  const std::string_view id = name.substr(id_start + 1);
  if (!is_machine_id(id)) return std::nullopt;
  return ScoreCsvName{std::string(name.substr(0, id_start)), std::string(id)};
}

}  // namespace micronet_ad::host
