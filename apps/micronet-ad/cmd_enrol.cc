// micronet-ad enrol --output PROFILE PATH...: learns what a machine sounds like when it is
// normal, from a few of its recordings (docs/enrolment.md). One profile per machine: all the
// clips into one file, or, with --output DIR, one per machine ID found in DCASE file names.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <chrono>
#include <map>
#include <stdexcept>

#include <fmt/core.h>

#include "commands.h"
#include "enrol.h"
#include "host/detect/profile_set.h"
#include "host/eval/dcase_csv.h"
#include "host/eval/dcase_layout.h"
#include "host/io/default_model.h"
#include "scoring.h"

namespace micronet_ad::cli {
namespace {

namespace fs = std::filesystem;

// Clips by machine: everything under `machine` when given, else by the DCASE ID in the name.
std::map<std::string, std::vector<std::string>> group_by_machine(const std::vector<host::ClipInput>& inputs,
                                                                 const std::string& machine) {
  std::map<std::string, std::vector<std::string>> groups;
  for (const host::ClipInput& in : inputs) {
    if (!in.error.empty()) throw std::runtime_error(in.error);
    const std::string name = host::clip_machine_name(in.path, machine);
    if (name.empty())
      throw std::runtime_error(in.path + ": no machine ID in the file name; give --machine-id or --output FILE");
    groups[name].push_back(in.path);
  }
  return groups;
}

// Normal clips only: DCASE anomaly clips are left out, with a warning.
std::vector<host::ClipInput> normal_clips(std::vector<host::ClipInput> inputs) {
  std::size_t dropped = 0;
  inputs.erase(std::remove_if(inputs.begin(), inputs.end(),
                              [&](const host::ClipInput& in) {
                                const auto label = host::parse_clip_label(in.path);
                                const bool anomaly = label && label->anomalous;
                                dropped += anomaly ? 1 : 0;
                                return anomaly;
                              }),
               inputs.end());
  if (dropped > 0)
    std::fprintf(stderr, "micronet-ad: warning: left out %zu anomaly_* clip(s): enrolment learns from normal clips\n",
                 dropped);
  return inputs;
}

// The one profile's name when --output is a file: --name, --machine-id, the clips' common DCASE
// ID, else the file's stem.
std::string single_profile_name(const std::string& name, const std::string& machine,
                                const std::vector<host::ClipInput>& inputs, const std::string& output) {
  if (!name.empty()) return name;
  if (!machine.empty()) return host::clip_machine_name("", machine);
  std::string common;
  for (const host::ClipInput& in : inputs) {
    const std::string id = host::clip_machine_name(in.path, "");
    if (id.empty() || (!common.empty() && id != common)) return fs::path(output).stem().string();
    common = id;
  }
  return common.empty() ? fs::path(output).stem().string() : common;
}

}  // namespace

host::EnrolSettings EnrolOptions::settings(const ScoreModeOptions& mode, int threads) const {
  host::EnrolSettings s;
  s.framing = mode.framing;
  s.resize = mode.resize;
  s.rank = compact ? host::kCompactRank : rank;
  s.quantile = quantile;
  s.threads = threads;
  s.max_seconds = max_seconds;
  s.kernels = kernels;
  return s;
}

void add_enrol_fit_options(CLI::App* cmd, EnrolOptions* options) {
  cmd->add_option("--rank", options->rank,
                  "Keep this many principal directions of the embedding (a smaller, compact profile); 0: all (full "
                  "Mahalanobis distance, default)")
      ->check(CLI::Range(0, kProfileMaxEmbedding));
  cmd->add_flag("--compact", options->compact,
                fmt::format("Compact profile for a microcontroller: --rank {} (19 KB for ad_medium)", host::kCompactRank));
  cmd->add_option("--quantile", options->quantile,
                  "Threshold: this quantile of the enrolment clips' leave-one-out scores (default 1: their maximum)")
      ->check(CLI::Range(0.5, 1.0));
}

void print_enrolled(const host::FitResult& fit, const std::string& path) {
  const ProfileHeader& h = fit.header;
  const auto [lo, hi] = std::minmax_element(fit.loo_scores.begin(), fit.loo_scores.end());
  fmt::print("{:<20} {:>5} {:>7} {:>4}/{:<4} {:>9.4f} {:>11.4f} {:>10.4f}..{:<10.4f} {:>8} {}\n", h.name, h.clips,
             h.windows, h.rank, h.embedding_size, h.shrinkage, h.threshold, *lo, *hi, fit.bytes.size(), path);
  if (!fit.warning.empty()) std::fprintf(stderr, "micronet-ad: warning: %s: %s\n", h.name, fit.warning.c_str());
}

static void print_enrolled_header() {
  fmt::print("{:<20} {:>5} {:>7} {:>9} {:>9} {:>11} {:>22} {:>8} {}\n", "machine", "clips", "windows", "rank/D",
             "shrinkage", "threshold", "leave-one-out scores", "bytes", "profile");
}

std::string enrol_dcase_tree(const host::ModelFile& file, const std::string& root, const std::string& out_dir,
                             const ScoreModeOptions& mode, const EnrolOptions& options, int threads,
                             const std::vector<std::string>& types) {
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) throw std::runtime_error(out_dir + ": cannot create the profile folder: " + ec.message());
  std::fprintf(stderr, "micronet-ad: enrolling from %s/<type>/train into %s\n", root.c_str(), out_dir.c_str());
  print_enrolled_header();
  for (const host::SplitDir& dir : host::find_split_dirs(root, "train")) {
    if (std::find(types.begin(), types.end(), dir.machine_type) == types.end()) continue;
    std::vector<host::ClipInput> inputs;
    for (const std::string& p : host::list_split_clips(dir.path).labelled) inputs.push_back({p, ""});
    for (const auto& [id, paths] : group_by_machine(normal_clips(inputs), "")) {
      const std::string name = dir.machine_type + "_" + id;
      const host::FitResult fit = host::enrol_clips(file, name, options.settings(mode, threads), paths);
      const std::string path = (fs::path(out_dir) / (name + host::kProfileExtension)).string();
      host::write_profile_file(path, fit.bytes);
      print_enrolled(fit, path);
    }
  }
  std::fflush(stdout);
  return out_dir;
}

void add_enrol_command(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "enrol", "Learn a machine's normal sound from a few normal clips: writes a profile to score it by distance");
  static std::vector<std::string> paths;
  static std::string model, machine_id, name, output;
  static ScoreModeOptions mode;
  static EnrolOptions options;
  static int threads = 0;
  add_model_option(cmd, &model);
  cmd->add_option("--machine-id", machine_id,
                  "The machine every clip is from (default: the DCASE ID in each file name)");
  cmd->add_option("--name", name, "Profile name when --output is a file (default: --machine-id or the clips' ID)");
  cmd->add_option("-o,--output", output,
                  "Profile file (.mnprof), or an existing directory: one <machine>.mnprof per machine ID found")
      ->required();
  add_mode_options(cmd, &mode);
  add_enrol_fit_options(cmd, &options);
  add_max_seconds_option(cmd, &options.max_seconds);
  add_kernels_option(cmd, &options.kernels);
  add_threads_option(cmd, &threads);
  cmd->add_option("PATH", paths, "Normal clips: audio files or directories (recursive)")->required();
  cmd->callback([exit_code] {
    std::error_code ec;
    const bool to_dir = fs::is_directory(output, ec);
    if (to_dir) {
      check_writable_dir(output, "--output");
    } else {
      check_writable_file(output, "the profile");
    }
    const auto file = host::load_default_model(model);
    const std::vector<host::ClipInput> inputs = normal_clips(host::expand_audio_inputs(paths));
    std::map<std::string, std::vector<std::string>> groups;
    if (to_dir) {
      groups = group_by_machine(inputs, machine_id);
    } else {
      for (const host::ClipInput& in : inputs) {
        if (!in.error.empty()) throw std::runtime_error(in.error);
        groups[single_profile_name(name, machine_id, inputs, output)].push_back(in.path);
      }
    }
    if (groups.empty()) throw std::runtime_error("no normal clips to enrol");
    print_enrolled_header();
    const auto started = std::chrono::steady_clock::now();
    std::size_t clips = 0;
    for (const auto& [machine, group] : groups) {
      ProgressBar progress(group.size());
      const host::FitResult fit = host::enrol_clips(*file, machine, options.settings(mode, threads), group,
                                                    [&](std::size_t done) { progress.update(done); });
      const std::string path = to_dir ? (fs::path(output) / (machine + host::kProfileExtension)).string() : output;
      host::write_profile_file(path, fit.bytes);
      print_enrolled(fit, path);
      clips += group.size();
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::fprintf(stderr, "micronet-ad: enrolled %zu machine(s) from %zu clips in %.2f s (%.1f clips/s)\n",
                 groups.size(), clips, seconds, static_cast<double>(clips) / seconds);
    *exit_code = 0;
  });
}

}  // namespace micronet_ad::cli
