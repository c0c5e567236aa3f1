// The clips are read into memory first (each at most 256 MiB), so the publishing rate does not
// depend on the disk; the answers file, when asked for, gets every message as it arrives.
#include "cmd_publish.h"

#include <signal.h>

#include <cstdint>
#include <ctime>
#include <memory>
#include <mutex>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "host/detect/batch_scorer.h"
#include "host/io/file.h"

namespace micronet_ad::cli {
namespace {

// The bytes of every clip PATHs name (host::expand_audio_inputs: files as given, directories'
// audio files recursively, sorted). Throws for a directory without audio or a file that cannot
// be read.
std::vector<std::vector<std::uint8_t>> read_clips(const std::vector<std::string>& paths) {
  std::vector<std::vector<std::uint8_t>> clips;
  for (const host::ClipInput& input : host::expand_audio_inputs(paths)) {
    if (!input.error.empty()) throw std::runtime_error(input.error);
    clips.push_back(host::read_file(input.path, std::size_t(256) << 20));
  }
  if (clips.empty()) throw std::runtime_error("no clips found in the given paths");
  return clips;
}

// --answers FILE: one JSON line {"topic", "message"} per score or error message received, written
// from the MQTT thread as they arrive.
class AnswersFile {
 public:
  // No file for an empty path. Throws std::runtime_error when it cannot be written.
  explicit AnswersFile(const std::string& path) : path_(path) {
    if (path.empty()) return;
    file_.reset(std::fopen(path.c_str(), "w"));
    if (!file_) throw std::runtime_error(path + ": cannot write");
  }

  void write(const std::string& topic, const std::string& message) {
    if (!file_) return;
    // A message that is not JSON (anyone may publish on the topics) is kept as a string.
    nlohmann::ordered_json parsed = nlohmann::ordered_json::parse(message, nullptr, false);
    if (parsed.is_discarded()) parsed = message;
    std::lock_guard<std::mutex> lock(mutex_);
    if (!print_json_line(file_.get(), {{"topic", topic}, {"message", std::move(parsed)}})) failed_ = true;
  }

  // Closes the file; false when some line was lost.
  bool close() {
    if (!file_) return true;
    const bool closed = std::fclose(file_.release()) == 0;
    return closed && !failed_;
  }
  const std::string& path() const { return path_; }

 private:
  struct Closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::string path_;
  std::unique_ptr<std::FILE, Closer> file_;
  std::mutex mutex_;
  bool failed_ = false;
};

}  // namespace

host::fleet::SimulatorConfig simulator_config(const PublishOptions& options) {
  host::fleet::SimulatorConfig config = options.simulation;
  if (config.run_id.empty()) config.run_id = fmt::format("run{}", static_cast<long long>(std::time(nullptr)));
  host::fleet::ConnectionOptions connection = options.connection;
  if (connection.client_id.empty()) connection.client_id = "fleet-sim-" + config.run_id;
  config.connection = host::fleet::connection_settings(connection);
  return config;
}

int run_publish(const PublishOptions& options, std::FILE* out) {
  signal(SIGPIPE, SIG_IGN);
  const host::fleet::SimulatorConfig config = simulator_config(options);
  const std::vector<std::vector<std::uint8_t>> clips = read_clips(options.paths);
  AnswersFile answers(options.answers_path);
  const host::fleet::SimulatorReport report = host::fleet::run_fleet_simulation(
      config, clips, [&](const std::string& topic, const std::string& json) { answers.write(topic, json); });
  const bool answers_written = answers.close();
  nlohmann::ordered_json j = report.to_json();
  j["machines"] = config.machines;
  j["rate"] = config.rate;
  if (!print_json_line(out, j)) throw std::runtime_error("cannot write the report (output closed?)");
  if (!answers_written) {
    std::fprintf(stderr, "micronet-ad: error: %s: could not write every answer\n", answers.path().c_str());
    return 1;
  }
  return report.lost > 0 ? 1 : 0;
}

CLI::App* add_publish_options(CLI::App& app, PublishOptions* options) {
  auto* cmd = app.add_subcommand("publish",
                                 "Fleet simulator: N virtual sensors publish clips over MQTT at R clips/s in total; "
                                 "reports throughput, end-to-end latency p50/p99, lost and duplicated clips (JSON)");
  host::fleet::SimulatorConfig& config = options->simulation;
  host::fleet::add_connection_options(cmd, &options->connection);
  cmd->add_option("--id", options->connection.client_id, "MQTT client id (default: fleet-sim-<run id>)");
  cmd->add_option("--machines", config.machines, "Virtual sensors, named <prefix><index>")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000000));
  cmd->add_option("--rate", config.rate, "Clips per second over all machines (0: as fast as possible)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--clips", config.clips, "Clips in all (default: one per machine)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--machine-prefix", config.machine_prefix, "Machine name prefix")->capture_default_str();
  cmd->add_option("--machine-id", config.machine_id, "User property machine_id on every clip (00, 02, 04, 06)");
  cmd->add_option("--run-id", config.run_id, "Starts every clip_id (default: from the clock)");
  cmd->add_option("--idle-timeout", config.idle_timeout_seconds,
                  "Seconds to wait for more answers once none came for that long")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--answers", options->answers_path,
                  "Write every score and error message received, one JSON line each");
  cmd->add_option("paths", options->paths, "Clips (audio files, or directories of them) published in turn")->required();
  return cmd;
}

void add_publish_command(CLI::App& app, int* exit_code) {
  static PublishOptions options;
  add_publish_options(app, &options)->callback([exit_code] { *exit_code = run_publish(options, stdout); });
}

}  // namespace micronet_ad::cli
