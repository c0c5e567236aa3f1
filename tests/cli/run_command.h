// Calling a command's functions in the test process (apps/micronet-ad/cmd_<name>.h): argv parsed
// into its options struct, and what its run function prints, captured through a temporary file.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace micronet_ad::test {

// Parses `args` (without the program name) as the app's command line; throws what CLI11 throws
// (CLI::ValidationError, CLI::RequiredError, ...) for a refused one.
inline void parse_args(CLI::App& app, const std::vector<std::string>& args) {
  std::vector<const char*> argv{"micronet-ad"};
  for (const std::string& a : args) argv.push_back(a.c_str());
  app.parse(static_cast<int>(argv.size()), argv.data());
}

// What a run function printed, and its exit code.
struct Printed {
  int exit_code = -1;
  std::string out;
};

// `run(FILE*)` is e.g. [&](std::FILE* out) { return cli::run_inspect(options, out); }.
template <typename Run>
Printed printed_by(Run run) {
  std::FILE* file = std::tmpfile();
  Printed printed;
  try {
    printed.exit_code = run(file);
  } catch (...) {
    std::fclose(file);
    throw;
  }
  std::rewind(file);
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, file)) > 0;) printed.out.append(buffer, n);
  std::fclose(file);
  return printed;
}

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The text of a table's column under its header's `name`, right-aligned to the name's end
// (numbers), in `row`; spaces trimmed.
inline std::string cell_under(const std::string& header, const std::string& row, const std::string& name,
                              std::size_t width) {
  const std::size_t end = header.find(name) + name.size();
  if (header.find(name) == std::string::npos || end < width || row.size() < end) return "<no column " + name + ">";
  std::string cell = row.substr(end - width, width);
  cell.erase(0, cell.find_first_not_of(' '));
  return cell;
}

// A fresh folder for a test's files, removed with them at the end.
class TempDir {
 public:
  explicit TempDir(const std::string& name)
      : path_(std::filesystem::temp_directory_path() / (name + "_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace micronet_ad::test
