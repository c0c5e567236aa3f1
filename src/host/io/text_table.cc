#include "host/io/text_table.h"

#include <stdexcept>
#include <utility>

namespace micronet_ad::host {

TextTable::TextTable(TextFormat format, std::vector<TextColumn> columns, std::string separator)
    : format_(format), columns_(std::move(columns)), separator_(std::move(separator)) {
  for (TextColumn& column : columns_) {
    if (column.width < column.name.size()) column.width = column.name.size();
  }
}

std::string TextTable::header() const {
  std::vector<std::string> names;
  for (const TextColumn& column : columns_) names.push_back(column.name);
  return line(names);
}

std::string TextTable::row(const std::vector<std::string>& cells) const {
  if (cells.size() > columns_.size()) throw std::invalid_argument("TextTable: a row has more cells than columns");
  return line(cells);
}

std::string TextTable::line(const std::vector<std::string>& cells) const {
  std::string out;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (format_ == TextFormat::kCsv) {
      if (i > 0) out += ',';
      out += csv_field(cells[i]);
      continue;
    }
    if (i > 0) out += separator_;
    const std::string pad(cells[i].size() < columns_[i].width ? columns_[i].width - cells[i].size() : 0, ' ');
    out += columns_[i].left ? cells[i] + pad : pad + cells[i];
  }
  // A left-aligned last column would end in spaces; the line ends at its text.
  while (format_ == TextFormat::kTable && !out.empty() && out.back() == ' ') out.pop_back();
  return out + "\n";
}

std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

}  // namespace micronet_ad::host
