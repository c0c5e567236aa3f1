// What the tests of the commands as functions (tests/cli/cmd_<name>_test.cc) share: parsing an argv
// into an options struct, capturing what run_<name> prints, reading tables back, scratch folders
// and files, thresholds files for a model.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "host/eval/thresholds.h"
#include "host/io/model_file.h"
#include "host/io/model_info.h"

namespace micronet_ad::test {

// Parses `args` (after the program's name) with `app`; CLI11's exceptions pass through.
inline void parse_args(CLI::App& app, const std::vector<std::string>& args) {
  std::vector<const char*> argv{"micronet-ad"};
  for (const std::string& a : args) argv.push_back(a.c_str());
  app.parse(static_cast<int>(argv.size()), argv.data());
}

// Parses `args` with the subcommand `add_options` makes, into *options.
template <typename Options, typename AddOptions>
void parse_into(AddOptions add_options, Options* options, const std::vector<std::string>& args) {
  CLI::App app;
  add_options(app, options);
  parse_args(app, args);
}

// What a run function printed, and its exit code.
struct Printed {
  int exit_code = -1;
  std::string out;
};

// Calls `run(out)` with a temporary file as `out` and reads back what it printed.
inline Printed printed_by(const std::function<int(std::FILE*)>& run) {
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

// Fields split at every `separator` (no quoting: the tests' values hold none).
inline std::vector<std::string> split(const std::string& line, char separator = ',') {
  std::vector<std::string> fields;
  std::istringstream in(line);
  for (std::string field; std::getline(in, field, separator);) fields.push_back(field);
  return fields;
}

// Whitespace-separated words of a table row.
inline std::vector<std::string> words_of(const std::string& line) {
  std::vector<std::string> words;
  std::istringstream in(line);
  for (std::string word; in >> word;) words.push_back(word);
  return words;
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

// A fresh, empty folder under the system's temporary folder, unique to this process and `name`,
// removed with everything in it when the object goes.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name)
      : path_((std::filesystem::temp_directory_path() /
               ("micronet_ad_cmd_test_" + std::to_string(::getpid()) + "_" + name))
                  .string()) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }
  // A path inside it.
  std::string operator/(const std::string& relative) const { return path_ + "/" + relative; }

 private:
  std::string path_;
};

// Writes `text` to `path`, folders created.
inline void write_text_file(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) throw std::runtime_error(path + ": cannot write");
  std::fwrite(text.data(), 1, text.size(), f);
  std::fclose(f);
}

inline std::string slurp_text(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) throw std::runtime_error(path + ": cannot read");
  std::string text;
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, f)) > 0;) text.append(buffer, n);
  std::fclose(f);
  return text;
}

// A symbolic link `at` to `target`, folders created.
inline void link_file(const std::string& target, const std::string& at) {
  std::filesystem::create_directories(std::filesystem::path(at).parent_path());
  std::filesystem::create_symlink(target, at);
}

// The message of the std::exception that `f` throws ("(no exception)" when it throws none).
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no exception)";
}

// Writes a thresholds file (what `calibrate` writes) for `model`: one threshold per machine key
// ("id_00") of `kind` scores.
inline void write_thresholds_for(const std::string& path, const std::string& model,
                                 const std::map<std::string, double>& thresholds,
                                 ScoreMethod kind = ScoreMethod::kNegSoftmax) {
  host::ThresholdSet set;
  set.model_sha1 = host::model_sha1(*host::load_model_file(model));
  set.score_kind = kind;
  for (const auto& [machine, threshold] : thresholds) set.machines[machine] = {threshold, 10, std::nullopt};
  host::write_thresholds(path, set);
}

}  // namespace micronet_ad::test
