// What `enrol` and `eval --enrol` share: the fit options and enrolling a DCASE tree.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "common_options.h"
#include "host/detect/enrolment.h"

namespace micronet_ad::cli {

struct EnrolOptions {
  std::uint32_t rank = 0;  // --rank; 0: full
  bool compact = false;    // --compact: rank host::kCompactRank
  double quantile = host::kDefaultEnrolQuantile;
  double max_seconds = kDefaultMaxSeconds;  // the command's --max-seconds
  KernelSet kernels = KernelSet::kAuto;     // the command's --kernels
  host::EnrolSettings settings(const ScoreModeOptions& mode, int threads) const;
};
// --rank, --compact, --quantile.
void add_enrol_fit_options(CLI::App* cmd, EnrolOptions* options);

// Fits one profile per machine type and ID on <root>/<type>/train (normal clips) for the types
// in `types`, names them "<type>_id_XX", writes them to `out_dir` and returns it.
std::string enrol_dcase_tree(const host::ModelFile& file, const std::string& root, const std::string& out_dir,
                             const ScoreModeOptions& mode, const EnrolOptions& options, int threads,
                             const std::vector<std::string>& types);

// Prints one enrolled profile's summary line (and its fit warning on stderr).
void print_enrolled(const host::FitResult& fit, const std::string& path);

// Whether the option was given on the command line.
inline bool cmd_used(CLI::App* cmd, const std::string& option) { return cmd->count(option) > 0; }

}  // namespace micronet_ad::cli
