// Enrolment: fits a machine profile (include/micronet_ad/profile.h) to the window embeddings of
// a few normal clips, and calibrates its threshold by leaving one clip out at a time.
//
//   covariance   Ledoit–Wolf shrinkage of the sample covariance of all windows pooled, toward
//                μ·I with μ = trace/D (scikit-learn's ledoit_wolf, assume_centered=False)
//   axes         its top-k eigenpairs; the other D − k eigenvalues become one residual variance
//   threshold    a quantile of the leave-one-clip-out clip scores, each scored with the core's
//                Profile::distance on the clip's int8 windows, exactly as scoring will
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "micronet_ad/frontend.h"
#include "micronet_ad/profile.h"

namespace micronet_ad::host {

// One clip's window embeddings as the interpreter gives them: windows × D int8, row-major.
struct ClipEmbeddings {
  std::string name;
  std::vector<std::int8_t> windows;
};

struct FitOptions {
  std::string name;  // machine name (is_valid_profile_name)
  std::array<std::uint8_t, 20> model_sha1{};
  Framing framing = Framing::kCentered;
  Resize resize = Resize::kAverage;
  float embedding_scale = 0;  // the embedding tensor's quantization
  std::int32_t embedding_zero_point = 0;
  std::uint32_t rank = 0;  // k; 0 = full (k = D)
  // How clip scores are formed, for the leave-one-out threshold and for scoring later.
  ProfileAggregate aggregate = ProfileAggregate::kClipMeanEmbedding;
  // The threshold is this quantile (linear interpolation, numpy's default) of the
  // leave-one-out clip scores; in (0, 1].
  double quantile = 1.0;
};

struct FitResult {
  std::vector<std::uint8_t> bytes;  // the encoded profile (encode_profile)
  ProfileHeader header;
  // One per clip: its clip score under a profile fitted (same rank) without it.
  std::vector<double> loo_scores;
  std::string warning;  // e.g. fewer windows than dimensions, naming the shrinkage; empty if none
};

// Throws std::invalid_argument for bad input (fewer than 2 clips, a clip without windows or
// with a length that is not a multiple of D, bad options) and std::runtime_error when the data
// cannot give a finite profile. Messages are one line.
FitResult fit_profile(const std::vector<ClipEmbeddings>& clips, std::uint32_t embedding_size,
                      const FitOptions& options);

// Each clip's score: the mean of Profile::distance over its windows, summed in double in window
// order as ClipAccumulator does. Throws std::invalid_argument for a clip without windows or with
// a length that is not a multiple of the profile's embedding size.
std::vector<double> clip_scores(const Profile& profile, const std::vector<ClipEmbeddings>& clips);

}  // namespace micronet_ad::host
