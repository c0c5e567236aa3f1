// How commands print results: --format table|csv|json, the shared table/CSV writer
// (host::TextTable) and JSON documents, indented or one per line. Results go to the FILE* a
// command is given (stdout from the CLI, a temporary file in tests); diagnostics and progress go
// to stderr.
#pragma once

#include <cstdio>
#include <string>

#include <fmt/core.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "host/io/json_text.h"
#include "host/io/text_table.h"

namespace micronet_ad::cli {

enum class OutputFormat { kTable, kCsv, kJson };

// --format table|csv|json.
inline void add_format_option(CLI::App* cmd, OutputFormat* format, const std::string& help) {
  cmd->add_option_function<std::string>(
         "--format",
         [format](const std::string& v) {
           *format = v == "csv" ? OutputFormat::kCsv : v == "json" ? OutputFormat::kJson : OutputFormat::kTable;
         },
         help)
      ->default_str("table")
      ->check(CLI::IsMember({"table", "csv", "json"}));
}

// --json, for the commands whose JSON document is the alternative to one table (inspect, bench).
inline void add_json_flag(CLI::App* cmd, OutputFormat* format) {
  cmd->add_flag_callback(
      "--json", [format] { *format = OutputFormat::kJson; }, "Print JSON instead of a table");
}

inline host::TextFormat text_format(OutputFormat format) {
  return format == OutputFormat::kCsv ? host::TextFormat::kCsv : host::TextFormat::kTable;
}

// Text as it is produced, so a long run shows each result when it is ready.
inline void print_text(std::FILE* out, const std::string& text) {
  std::fputs(text.c_str(), out);
  std::fflush(out);
}

// A JSON document, indented; file names that are not UTF-8 print as U+FFFD instead of failing.
inline void print_json(std::FILE* out, const nlohmann::ordered_json& document) {
  print_text(out, host::pretty_json(document) + "\n");
}

// A JSON document on one line (host::wire_json), flushed at once: JSON lines, for programs that
// read each result as it comes (stream, publish). Returns false when the line could not be
// written (a closed pipe, a full disk): a stream then stops instead of scoring for nobody.
[[nodiscard]] inline bool print_json_line(std::FILE* out, const nlohmann::ordered_json& document) {
  const std::string line = host::wire_json(document) + "\n";
  return std::fwrite(line.data(), 1, line.size(), out) == line.size() && std::fflush(out) == 0;
}

}  // namespace micronet_ad::cli
