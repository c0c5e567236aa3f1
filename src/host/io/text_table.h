// Rows of text cells written as an aligned table for people or as CSV (RFC 4180) for programs.
// One column list serves both, so a command cannot print columns in one format that it forgets in
// the other. Rows are formatted one at a time, so a command can print each result as it arrives.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace micronet_ad::host {

enum class TextFormat { kTable, kCsv };

struct TextColumn {
  std::string name;
  bool left = false;      // align left (names, paths); numbers align right
  std::size_t width = 0;  // table width; the name's width if wider
};

class TextTable {
 public:
  // `separator` goes between table columns; CSV always uses ",".
  TextTable(TextFormat format, std::vector<TextColumn> columns, std::string separator = " ");

  TextFormat format() const { return format_; }
  // The header line and one row, each with "\n". A row may have fewer cells than columns (the
  // last columns are optional, e.g. a decision only with thresholds) but never more: that
  // throws std::invalid_argument.
  std::string header() const;
  std::string row(const std::vector<std::string>& cells) const;

 private:
  std::string line(const std::vector<std::string>& cells) const;

  TextFormat format_;
  std::vector<TextColumn> columns_;
  std::string separator_;
};

// One CSV field: quoted when it holds a comma, quote or line break, quotes doubled (RFC 4180).
std::string csv_field(std::string_view text);

}  // namespace micronet_ad::host
