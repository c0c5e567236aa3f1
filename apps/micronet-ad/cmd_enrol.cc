// One profile per machine: all the clips into one file, or, with --output DIR, one per machine
// ID found in DCASE file names. Anomalous DCASE clips are left out.
#include "cmd_enrol.h"

#include <chrono>
#include <filesystem>
#include <map>
#include <stdexcept>

#include "commands.h"
#include "host/detect/profile_set.h"
#include "host/io/default_model.h"
#include "scoring.h"

namespace micronet_ad::cli {
namespace {

namespace fs = std::filesystem;

// The one profile's name when --output is a file: --name, --machine-id, the clips' common DCASE
// ID, else the file's stem.
std::string single_profile_name(const EnrolOptions& options, const std::vector<host::ClipInput>& inputs) {
  if (!options.name.empty()) return options.name;
  if (!options.machine_id.empty()) return host::clip_machine_name("", options.machine_id);
  const std::string stem = fs::path(options.output).stem().string();
  std::string common;
  for (const host::ClipInput& in : inputs) {
    const std::string id = host::clip_machine_name(in.path, "");
    if (id.empty() || (!common.empty() && id != common)) return stem;
    common = id;
  }
  return common.empty() ? stem : common;
}

// The clips of each profile to fit, by its name.
std::map<std::string, std::vector<std::string>> enrolment_groups(const EnrolOptions& options, bool to_dir) {
  const std::vector<host::ClipInput> inputs =
      drop_anomalies(host::expand_audio_inputs(options.paths), "enrolment learns from normal clips only");
  std::map<std::string, std::vector<std::string>> groups;
  if (to_dir) {
    groups = group_by_machine(inputs, options.machine_id);
  } else {
    const std::string name = single_profile_name(options, inputs);
    for (const host::ClipInput& in : inputs) {
      if (!in.error.empty()) throw std::runtime_error(in.error);
      groups[name].push_back(in.path);
    }
  }
  if (groups.empty()) throw std::runtime_error("no normal clips to enrol");
  return groups;
}

}  // namespace

int run_enrol(const EnrolOptions& options, std::FILE* out) {
  std::error_code ec;
  const bool to_dir = fs::is_directory(options.output, ec);
  if (to_dir) {
    check_writable_dir(options.output, "--output");
  } else {
    check_writable_file(options.output, "the profile");
  }
  const auto file = host::load_default_model(options.model);
  const auto groups = enrolment_groups(options, to_dir);
  const host::EnrolSettings settings =
      enrol_settings(options.fit, options.mode, options.threads, options.max_seconds, options.kernels);
  print_enrolled_header(out);
  const auto started = std::chrono::steady_clock::now();
  std::size_t clips = 0;
  for (const auto& [machine, group] : groups) {
    const std::string path =
        to_dir ? (fs::path(options.output) / (machine + host::kProfileExtension)).string() : options.output;
    enrol_profile(*file, machine, settings, group, path, out);
    clips += group.size();
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::fprintf(stderr, "micronet-ad: enrolled %zu machine(s) from %zu clips in %.2f s (%.1f clips/s)\n", groups.size(),
               clips, seconds, static_cast<double>(clips) / seconds);
  return 0;
}

CLI::App* add_enrol_options(CLI::App& app, EnrolOptions* options) {
  auto* cmd = app.add_subcommand(
      "enrol", "Learn a machine's normal sound from a few normal clips: writes a profile to score it by distance");
  add_model_option(cmd, &options->model);
  cmd->add_option("--machine-id", options->machine_id,
                  "The machine every clip is from (default: the DCASE ID in each file name)");
  cmd->add_option("--name", options->name,
                  "Profile name when --output is a file (default: --machine-id or the clips' ID)");
  cmd->add_option("-o,--output", options->output,
                  "Profile file (.mnprof), or an existing directory: one <machine>.mnprof per machine ID found")
      ->required();
  add_mode_options(cmd, &options->mode);
  add_enrol_fit_options(cmd, &options->fit);
  add_max_seconds_option(cmd, &options->max_seconds);
  add_kernels_option(cmd, &options->kernels);
  add_threads_option(cmd, &options->threads);
  cmd->add_option("PATH", options->paths, "Normal clips: audio files or directories (recursive)")->required();
  return cmd;
}

void add_enrol_command(CLI::App& app, int* exit_code) {
  static EnrolOptions options;
  add_enrol_options(app, &options)->callback([exit_code] { *exit_code = run_enrol(options, stdout); });
}

}  // namespace micronet_ad::cli
