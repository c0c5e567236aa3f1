// For the tests of the commands as functions (cmd_<name>_test.cc): parsing an argv into a
// command's options, running it with its output in a temporary file, a scratch folder, and
// thresholds files for a model.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "host/eval/thresholds.h"
#include "host/io/model_file.h"
#include "host/io/model_info.h"

namespace micronet_ad::test {

// Parses `args` (after the program name) with `app`; CLI11's exceptions pass through.
inline void parse_args(CLI::App& app, const std::vector<std::string>& args) {
  std::vector<const char*> argv{"micronet-ad"};
  for (const std::string& a : args) argv.push_back(a.c_str());
  app.parse(static_cast<int>(argv.size()), argv.data());
}

// What a run function printed to its FILE*, and what it returned.
struct Printed {
  int exit_code = -1;
  std::string out;
};

inline Printed run_printing(const std::function<int(std::FILE*)>& run) {
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

// A fresh folder under the system's temporary one, removed with everything in it.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name)
      : path_(std::filesystem::temp_directory_path() / (name + "_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

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
