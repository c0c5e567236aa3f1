// Enrolment on the host: normal clips → their window embeddings (the batch pool) → a fitted,
// calibrated profile (host/profile/profile_fit.h). Used by `enrol`, `eval --enrol` and the
// service's PUT /v1/machines/NAME. docs/enrolment.md explains the method and its defaults.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "host/detect/batch_scorer.h"
#include "host/detect/clip_scorer.h"
#include "host/io/model_file.h"
#include "host/profile/profile_fit.h"

namespace micronet_ad::host {

// Defaults chosen by measurement (docs/enrolment.md).
inline constexpr double kDefaultEnrolQuantile = 1.0;  // the largest leave-one-out score
inline constexpr std::uint32_t kCompactRank = 16;     // compact profile: 19 KB at D = 276

struct EnrolSettings {
  Framing framing = Framing::kCentered;
  Resize resize = Resize::kAverage;
  std::uint32_t rank = 0;  // 0: full
  double quantile = kDefaultEnrolQuantile;
  int threads = 0;
  double max_seconds = 0.0;  // longest clip in seconds (0: no limit), judged before decoding
  KernelSet kernels = KernelSet::kAuto;
};

// The embedding size of the model (its embedding tensor's bytes); throws when it has none.
std::uint32_t embedding_size(const Model& model);

// Fit options for `name` with this model and settings.
FitOptions fit_options(const ModelFile& file, const std::string& name, const EnrolSettings& settings);

// Every clip's window embeddings, computed on the batch pool (`progress(done)` after each clip,
// on the calling thread). Throws std::runtime_error naming every clip that failed.
std::vector<ClipEmbeddings> embed_clips(const Model& model, const EnrolSettings& settings,
                                        const std::vector<std::string>& paths,
                                        const std::function<void(std::size_t)>& progress = {});

// One clip's window embeddings from audio already decoded (16 kHz mono, int16 scale), on the
// caller's scorer (made with the settings' framing and resize): what embed_clips does for each
// file, for audio that never was one (e.g. the service's uploads, on its worker's scorer).
ClipEmbeddings embed_audio(ClipScorer& scorer, const std::string& name, const std::vector<float>& samples);

// Fits and calibrates machine `name`'s profile on clips already embedded (embed_clips or
// embed_audio). Throws std::invalid_argument for a bad name or input (e.g. fewer than 2 clips)
// and std::runtime_error when the fit fails, as fit_profile.
FitResult fit_embeddings(const ModelFile& file, const std::string& name, const EnrolSettings& settings,
                         const std::vector<ClipEmbeddings>& clips);

// embed_clips + fit_embeddings.
FitResult enrol_clips(const ModelFile& file, const std::string& name, const EnrolSettings& settings,
                      const std::vector<std::string>& paths, const std::function<void(std::size_t)>& progress = {});

}  // namespace micronet_ad::host
