// `micronet-ad publish`: the fleet simulator — N virtual sensors publish clips over MQTT at R
// clips/s in total and it reports what came back (host/fleet/simulator.h).
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "commands.h"
#include "host/fleet/cli_connection.h"
#include "host/fleet/simulator.h"
#include "host/io/file.h"

namespace micronet_ad::cli {
namespace {

// The files of PATHs: files as given, directories' .wav and .flac files (recursive, sorted).
std::vector<std::string> clip_files(const std::vector<std::string>& paths) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  for (const std::string& path : paths) {
    if (!fs::is_directory(path)) {
      files.push_back(path);
      continue;
    }
    std::vector<std::string> found;
    for (const auto& entry : fs::recursive_directory_iterator(path)) {
      const std::string ext = entry.path().extension().string();
      if (entry.is_regular_file() && (ext == ".wav" || ext == ".flac" || ext == ".WAV" || ext == ".FLAC"))
        found.push_back(entry.path().string());
    }
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

}  // namespace

void add_publish_command(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("publish",
                                 "Fleet simulator: N virtual sensors publish clips over MQTT at R clips/s in total; "
                                 "reports throughput, end-to-end latency p50/p99, lost and duplicated clips (JSON)");
  static host::fleet::ConnectionOptions connection;
  static host::fleet::SimulatorConfig config;
  static std::vector<std::string> paths;
  static std::string answers_path;
  host::fleet::add_connection_options(cmd, &connection);
  cmd->add_option("--id", connection.client_id, "MQTT client id (default: fleet-sim-<run id>)");
  cmd->add_option("--machines", config.machines, "Virtual sensors, named <prefix><index>")->capture_default_str()
      ->check(CLI::Range(1, 10000000));
  cmd->add_option("--rate", config.rate, "Clips per second over all machines (0: as fast as possible)")->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--clips", config.clips, "Clips in all (default: one per machine)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--machine-prefix", config.machine_prefix, "Machine name prefix")->capture_default_str();
  cmd->add_option("--machine-id", config.machine_id, "User property machine_id on every clip (00, 02, 04, 06)");
  cmd->add_option("--run-id", config.run_id, "Starts every clip_id (default: from the clock)");
  cmd->add_option("--idle-timeout", config.idle_timeout_seconds,
                  "Seconds to wait for more answers once none came for that long")->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--answers", answers_path, "Write every score and error message received, one JSON line each");
  cmd->add_option("paths", paths, "Clips (WAV/FLAC files, or directories of them) published in turn")->required();
  cmd->callback([exit_code] {
    signal(SIGPIPE, SIG_IGN);
    if (config.run_id.empty()) config.run_id = fmt::format("run{}", static_cast<long long>(std::time(nullptr)));
    if (connection.client_id.empty()) connection.client_id = "fleet-sim-" + config.run_id;
    config.connection = host::fleet::connection_settings(connection);
    std::vector<std::vector<std::uint8_t>> clips;
    for (const std::string& file : clip_files(paths)) clips.push_back(host::read_file(file, std::size_t(256) << 20));
    if (clips.empty()) throw std::runtime_error("no clips found in the given paths");
    FILE* answers = nullptr;
    if (!answers_path.empty() && !(answers = std::fopen(answers_path.c_str(), "w")))
      throw std::runtime_error(answers_path + ": cannot write");
    std::mutex answers_mutex;
    const auto on_answer = [&](const std::string& topic, const std::string& json) {
      if (!answers) return;
      std::lock_guard<std::mutex> lock(answers_mutex);
      std::fprintf(answers, "{\"topic\":\"%s\",\"message\":%s}\n", topic.c_str(), json.c_str());
    };
    const host::fleet::SimulatorReport report = host::fleet::run_fleet_simulation(config, clips, on_answer);
    if (answers) std::fclose(answers);
    nlohmann::ordered_json j = report.to_json();
    j["machines"] = config.machines;
    j["rate"] = config.rate;
    fmt::print("{}\n", j.dump());
    *exit_code = report.lost > 0 ? 1 : 0;
  });
}

}  // namespace micronet_ad::cli
