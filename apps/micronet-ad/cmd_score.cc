// micronet-ad score PATH...: anomaly scores of audio clips (SPEC §4), one result per clip.
// Files are scored by a small pool of threads (one Engine and Frontend each); results are printed
// in input order, so the output does not depend on --threads.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "common_options.h"
#include "host/audio/audio_file.h"
#include "host/detect/clip_json.h"
#include "host/detect/clip_scorer.h"
#include "host/io/default_model.h"

namespace micronet_ad::cli {
namespace {

namespace fs = std::filesystem;

// More files than this (and a terminal on stderr) earn a progress bar.
constexpr std::size_t kProgressMinFiles = 8;

bool is_audio_extension(std::string ext) {
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  static const char* const kExtensions[] = {".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".aif", ".aiff",
                                            ".aifc", ".au",  ".snd",  ".caf", ".w64", ".rf64", ".mp3"};
  return std::find(std::begin(kExtensions), std::end(kExtensions), ext) != std::end(kExtensions);
}

// A clip to score, or an argument that failed before scoring (e.g. a directory without audio).
struct Input {
  std::string path;
  std::string error;
};

std::vector<Input> expand_inputs(const std::vector<std::string>& args) {
  std::vector<Input> inputs;
  for (const std::string& arg : args) {
    std::error_code ec;
    if (!fs::is_directory(arg, ec)) {
      inputs.push_back({arg, ""});  // a file named explicitly is tried whatever its extension
      continue;
    }
    std::vector<std::string> found;
    for (fs::recursive_directory_iterator it(arg, fs::directory_options::skip_permission_denied, ec), end;
         !ec && it != end; it.increment(ec)) {
      if (it->is_regular_file(ec) && is_audio_extension(it->path().extension().string())) found.push_back(it->path().string());
    }
    if (ec) {
      inputs.push_back({arg, arg + ": cannot list directory: " + ec.message()});
      continue;
    }
    if (found.empty()) {
      inputs.push_back({arg, arg + ": directory contains no audio files (.wav, .flac, .ogg, .aiff, ...)"});
      continue;
    }
    std::sort(found.begin(), found.end());
    for (std::string& f : found) inputs.push_back({std::move(f), ""});
  }
  return inputs;
}

struct Outcome {
  std::optional<host::ClipResult> result;
  int output_index = -1;
  std::string error;
};

Outcome score_one(host::ClipScorer& scorer, const Input& input, const std::string& machine_id) {
  Outcome o;
  if (!input.error.empty()) {
    o.error = input.error;
    return o;
  }
  try {
    o.output_index = host::clip_output_index(input.path, machine_id);
    const host::Audio audio = host::load_audio(input.path);
    o.result = scorer.score(audio.samples, o.output_index);
  } catch (const std::exception& e) {
    o.error = e.what();
  }
  return o;
}

// Scores inputs on `threads` workers and hands each outcome to `emit` in input order, as soon as
// it and all before it are done.
template <typename Emit>
void score_all(const Model& model, const ScoreModeOptions& mode, const std::vector<Input>& inputs,
               const std::string& machine_id, int threads, Emit emit) {
  std::vector<std::optional<Outcome>> outcomes(inputs.size());
  std::atomic<std::size_t> next{0};
  std::mutex mutex;
  std::condition_variable done;
  std::string setup_error;
  auto worker = [&] {
    std::optional<host::ClipScorer> scorer;
    try {
      scorer.emplace(model, mode.framing, mode.resize);
    } catch (const std::exception& e) {
      std::lock_guard<std::mutex> lock(mutex);
      setup_error = e.what();
    }
    for (std::size_t i; (i = next++) < inputs.size();) {
      Outcome o;
      if (scorer) o = score_one(*scorer, inputs[i], machine_id);
      else o.error = inputs[i].path + ": " + setup_error;
      std::lock_guard<std::mutex> lock(mutex);
      outcomes[i] = std::move(o);
      done.notify_all();
    }
  };
  std::vector<std::thread> pool;  // this thread prints while the workers score
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    std::unique_lock<std::mutex> lock(mutex);
    done.wait(lock, [&] { return outcomes[i].has_value(); });
    Outcome o = std::move(*outcomes[i]);
    outcomes[i].reset();
    lock.unlock();
    emit(i, o);
  }
  for (std::thread& t : pool) t.join();
}

class ProgressBar {
 public:
  ProgressBar(std::size_t total, bool enabled) : total_(total), enabled_(enabled) {}
  void update(std::size_t done) {
    if (!enabled_) return;
    constexpr int kWidth = 40;
    const int filled = static_cast<int>(kWidth * done / total_);
    std::fprintf(stderr, "\r[%s%s] %zu/%zu", std::string(filled, '#').c_str(), std::string(kWidth - filled, ' ').c_str(),
                 done, total_);
    if (done == total_) clear();  // leave the terminal clean
    std::fflush(stderr);
  }
  // Erases the bar before anything else is printed to the terminal.
  void clear() {
    if (enabled_) std::fputs("\r\033[K", stderr);
  }

 private:
  std::size_t total_;
  bool enabled_;
};

// RFC 4180: quote a field holding a comma, quote or line break.
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

}  // namespace

void add_score_command(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("score", "Anomaly scores of audio clips (files or directories, recursive)");
  static std::vector<std::string> paths;
  static std::string model, machine_id, format = "table";
  static ScoreModeOptions mode;
  static int threads = 0;
  add_model_option(cmd, &model);
  cmd->add_option("--machine-id", machine_id, "Machine ID of every clip (default: from DCASE file names)");
  add_mode_options(cmd, &mode);
  cmd->add_option("--format", format, "Output format")->check(CLI::IsMember({"table", "csv", "json"}));
  cmd->add_option("--threads", threads, "Worker threads (default: one per core)")
      ->check(CLI::Range(0, 256));
  cmd->add_option("PATH", paths, "Audio files or directories")->required();
  cmd->callback([exit_code] {
    const auto file = host::load_default_model(model);
    const std::vector<Input> inputs = expand_inputs(paths);
    const int workers = static_cast<int>(std::min<std::size_t>(
        threads > 0 ? threads : std::max(1u, std::thread::hardware_concurrency()), std::max<std::size_t>(inputs.size(), 1)));
    ProgressBar progress(inputs.size(), ::isatty(STDERR_FILENO) && inputs.size() > kProgressMinFiles);

    nlohmann::ordered_json clips = nlohmann::ordered_json::array(), failed = nlohmann::ordered_json::array();
    std::size_t failures = 0, degenerate = 0, scored = 0;
    if (format == "table") {
      fmt::print("{:<60} {:>3} {:>10} {:>8} {:>7} {:>9}\n", "path", "id", "score", "nll", "windows", "predicted");
    } else if (format == "csv") {
      fmt::print("path,machine_id,score,nll,windows,predicted_machine_id,degenerate\n");
    }
    std::fflush(stdout);
    auto report = [&](std::size_t i, const Outcome& o) {
      if (!o.result) {
        ++failures;
        std::fprintf(stderr, "micronet-ad: error: %s\n", o.error.c_str());
        failed.push_back({{"path", inputs[i].path}, {"error", o.error}});
        return;
      }
      ++scored;
      const host::ClipResult& r = *o.result;
      const char* id = machine_id_of_output(o.output_index);
      if (r.clip.degenerate()) ++degenerate;
      if (format == "table") {
        fmt::print("{:<60} {:>3} {:>10.6f} {:>8.4f} {:>7} {:>9}{}\n", inputs[i].path, id, r.clip.score, r.clip.nll,
                   r.clip.windows, host::predicted_machine_id(r.clip), r.clip.degenerate() ? "  degenerate" : "");
      } else if (format == "csv") {
        fmt::print("{},{},{:.8f},{:.8f},{},{},{}\n", csv_field(inputs[i].path), id, r.clip.score, r.clip.nll,
                   r.clip.windows, host::predicted_machine_id(r.clip), r.clip.degenerate() ? 1 : 0);
      } else {
        clips.push_back(host::clip_json(inputs[i].path, o.output_index, r));
      }
      std::fflush(stdout);
    };
    score_all(file->model, mode, inputs, machine_id, workers, [&](std::size_t i, const Outcome& o) {
      progress.clear();
      report(i, o);
      progress.update(i + 1);
    });
    if (format == "json") {
      nlohmann::ordered_json j = {{"model", file->path},
                          {"framing", to_string(mode.framing)},
                          {"resize", to_string(mode.resize)},
                          {"clips", clips},
                          {"failed", failed}};
      fmt::print("{}\n", j.dump(2));
    }
    if (degenerate > 0) {
      std::fprintf(stderr,
                   "micronet-ad: warning: %s: %zu of %zu clips are degenerate: no output moved more than %d "
                   "quantization steps across their windows, so the model barely responds to its input (SPEC §4); "
                   "scores from it mean little (ad_medium is the default model)\n",
                   file->path.c_str(), degenerate, scored, kDegenerateMaxSteps);
    }
    *exit_code = failures > 0 ? 1 : 0;
  });
}

}  // namespace micronet_ad::cli
