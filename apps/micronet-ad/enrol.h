// What `enrol` and `eval --enrol` share: the fit options, fitting and writing one profile with its
// summary row, and enrolling a DCASE tree.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "common_options.h"
#include "host/detect/batch_scorer.h"
#include "host/detect/enrolment.h"

namespace micronet_ad::cli {

// How a profile is fitted: --rank, --compact, --quantile.
struct EnrolFitOptions {
  std::uint32_t rank = 0;                         // --rank: principal directions kept; 0: all
  bool compact = false;                           // --compact: rank host::kCompactRank
  double quantile = host::kDefaultEnrolQuantile;  // --quantile of the leave-one-out scores: the threshold
};
void add_enrol_fit_options(CLI::App* cmd, EnrolFitOptions* options);

// The library's settings for a fit: the fit options with the command's front-end mode, threads,
// longest clip (--max-seconds) and kernels.
host::EnrolSettings enrol_settings(const EnrolFitOptions& fit, const ScoreModeOptions& mode, int threads,
                                   double max_seconds, KernelSet kernels);

// Clip paths by machine name: `machine` for all when given (host::clip_machine_name), else the
// DCASE ID in each name. Throws std::runtime_error for an input that carries an error or a name
// without an ID.
std::map<std::string, std::vector<std::string>> group_by_machine(const std::vector<host::ClipInput>& inputs,
                                                                 const std::string& machine);

// The summary table printed while enrolling: its header, then one row per profile (enrol_profile).
void print_enrolled_header(std::FILE* out);

// Fits machine `name`'s profile on `clips` (a progress bar on a terminal), writes it to `path`,
// prints its summary row to `out` and its fit warning, if any, to stderr.
void enrol_profile(const host::ModelFile& file, const std::string& name, const host::EnrolSettings& settings,
                   const std::vector<std::string>& clips, const std::string& path, std::FILE* out);

// Fits one profile per machine type and ID on <root>/<type>/train (normal clips) for the types
// in `types`, names them "<type>_id_XX", writes them to `out_dir` (created), prints the summary
// table to `out` and returns `out_dir`.
std::string enrol_dcase_tree(const host::ModelFile& file, const std::string& root, const std::string& out_dir,
                             const host::EnrolSettings& settings, const std::vector<std::string>& types,
                             std::FILE* out);

}  // namespace micronet_ad::cli
