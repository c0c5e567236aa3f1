#include "enrol.h"

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include <fmt/core.h>

#include "host/detect/profile_set.h"
#include "host/eval/dcase_layout.h"
#include "output.h"
#include "scoring.h"

namespace micronet_ad::cli {
namespace {

namespace fs = std::filesystem;

// The summary of each profile: rank/D and the leave-one-out range are composite cells, formatted
// whole so that their "/" and ".." line up from row to row.
const host::TextTable& enrolled_table() {
  static const host::TextTable table(host::TextFormat::kTable, {{"machine", true, 20},
                                                                {"clips", false, 5},
                                                                {"windows", false, 7},
                                                                {"rank/D", false, 9},
                                                                {"shrinkage", false, 9},
                                                                {"threshold", false, 11},
                                                                {"leave-one-out scores", false, 22},
                                                                {"bytes", false, 8},
                                                                {"profile", true}});
  return table;
}

void print_enrolled(std::FILE* out, const host::FitResult& fit, const std::string& path) {
  const ProfileHeader& h = fit.header;
  const auto [lo, hi] = std::minmax_element(fit.loo_scores.begin(), fit.loo_scores.end());
  print_text(out, enrolled_table().row({h.name, std::to_string(h.clips), std::to_string(h.windows),
                                        fmt::format("{:>4}/{:<4}", h.rank, h.embedding_size),
                                        fmt::format("{:.4f}", h.shrinkage), fmt::format("{:.4f}", h.threshold),
                                        fmt::format("{:>10.4f}..{:<10.4f}", *lo, *hi), std::to_string(fit.bytes.size()),
                                        path}));
  if (!fit.warning.empty()) std::fprintf(stderr, "micronet-ad: warning: %s: %s\n", h.name, fit.warning.c_str());
}

}  // namespace

host::EnrolSettings enrol_settings(const EnrolFitOptions& fit, const ScoreModeOptions& mode, int threads,
                                   double max_seconds, KernelSet kernels) {
  host::EnrolSettings s;
  s.framing = mode.framing;
  s.resize = mode.resize;
  s.rank = fit.compact ? host::kCompactRank : fit.rank;
  s.quantile = fit.quantile;
  s.threads = threads;
  s.max_seconds = max_seconds;
  s.kernels = kernels;
  return s;
}

void add_enrol_fit_options(CLI::App* cmd, EnrolFitOptions* options) {
  cmd->add_option("--rank", options->rank,
                  "Keep this many principal directions of the embedding (a smaller, compact profile); 0: all (full "
                  "Mahalanobis distance, default)")
      ->check(CLI::Range(0, kProfileMaxEmbedding));
  cmd->add_flag(
      "--compact", options->compact,
      fmt::format("Compact profile for a microcontroller: --rank {} (19 KB for ad_medium)", host::kCompactRank));
  cmd->add_option("--quantile", options->quantile,
                  "Threshold: this quantile of the enrolment clips' leave-one-out scores (default 1: their maximum)")
      ->check(CLI::Range(0.5, 1.0));
}

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

void print_enrolled_header(std::FILE* out) { print_text(out, enrolled_table().header()); }

void enrol_profile(const host::ModelFile& file, const std::string& name, const host::EnrolSettings& settings,
                   const std::vector<std::string>& clips, const std::string& path, std::FILE* out) {
  ProgressBar progress(clips.size());
  const host::FitResult fit =
      host::enrol_clips(file, name, settings, clips, [&](std::size_t done) { progress.update(done); });
  host::write_profile_file(path, fit.bytes);
  print_enrolled(out, fit, path);
}

std::string enrol_dcase_tree(const host::ModelFile& file, const std::string& root, const std::string& out_dir,
                             const host::EnrolSettings& settings, const std::vector<std::string>& types,
                             std::FILE* out) {
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) throw std::runtime_error(out_dir + ": cannot create the profile folder: " + ec.message());
  std::fprintf(stderr, "micronet-ad: enrolling from %s/<type>/train into %s\n", root.c_str(), out_dir.c_str());
  print_enrolled_header(out);
  for (const host::SplitDir& dir : host::find_split_dirs(root, "train")) {
    if (std::find(types.begin(), types.end(), dir.machine_type) == types.end()) continue;
    std::vector<host::ClipInput> inputs;
    for (const std::string& p : host::list_split_clips(dir.path).labelled) inputs.push_back({p, ""});
    const auto groups = group_by_machine(drop_anomalies(inputs, "enrolment learns from normal clips only"), "");
    for (const auto& [id, paths] : groups) {
      const std::string name = dir.machine_type + "_" + id;
      enrol_profile(file, name, settings, paths, (fs::path(out_dir) / (name + host::kProfileExtension)).string(), out);
    }
  }
  return out_dir;
}

}  // namespace micronet_ad::cli
