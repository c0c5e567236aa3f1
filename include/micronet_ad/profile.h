// micronet-ad: machine profiles — what one machine's normal sound looks like in the model's
// embedding (docs/enrolment.md), and the distance of a window from it. docs/profile-format.md is the
// file format; docs/enrolment.md says how profiles are fitted and calibrated.
//
// A profile is a mean μ and the top-k eigenpairs (λᵢ, uᵢ) of a shrunk covariance of normal
// window embeddings, plus one variance σ² for the D − k discarded directions. The distance of
// an embedding x, d = x − μ, pᵢ = uᵢ·d:
//
//     distance(x) = Σᵢ pᵢ² / λᵢ  +  (‖d‖² − Σᵢ pᵢ²) / σ²
//
// With k = D (a "full" profile) this is the squared Mahalanobis distance under the covariance;
// with k < D it is the probabilistic-PCA form of it (a "compact" profile, small enough for a
// microcontroller's flash). Either way one formula, one kernel.
//
// Core rules: the Profile is a validated view of the file bytes (no copies, no heap, no I/O).
#pragma once

#include <cstddef>
#include <cstdint>

#include "micronet_ad/frontend.h"
#include "micronet_ad/status.h"

namespace micronet_ad {

inline constexpr std::uint32_t kProfileVersion = 1;
inline constexpr std::size_t kProfileHeaderBytes = 128;
inline constexpr int kProfileNameBytes = 32;  // NUL-padded; at most 31 characters
inline constexpr int kProfileMaxEmbedding = 1024;

// How a clip's distance is formed from its windows (docs/enrolment.md has the measurements).
enum class ProfileAggregate : std::uint8_t {
  kMeanWindowDistance = 0,  // the mean of the window distances
  kClipMeanEmbedding = 1,   // the distance of the clip's mean embedding (default: +0.04 AUC)
};

// Everything in a profile but its arrays.
struct ProfileHeader {
  std::uint8_t model_sha1[20] = {};  // the model the embeddings came from
  Framing framing = Framing::kCentered;
  Resize resize = Resize::kAverage;
  ProfileAggregate aggregate = ProfileAggregate::kMeanWindowDistance;
  std::uint32_t embedding_size = 0;  // D
  std::uint32_t rank = 0;            // k, 1..D
  std::uint32_t clips = 0;           // normal clips fitted on
  std::uint32_t windows = 0;         // their windows
  float threshold = 0.0f;            // clip scores above it are anomalous
  float threshold_quantile = 0.0f;   // of the leave-one-out clip scores it was taken from
  float residual_precision = 0.0f;   // 1/σ² for the D − k discarded directions (0 when k = D)
  float shrinkage = 0.0f;            // Ledoit–Wolf coefficient used in the fit (0..1)
  float embedding_scale = 0.0f;      // the embedding tensor's quantization, checked on use
  std::int32_t embedding_zero_point = 0;
  char name[kProfileNameBytes + 1] = {};  // machine name: [A-Za-z0-9_.-], 1..31 characters
};

// True for a valid machine name (1..31 characters of [A-Za-z0-9_.-], not "." or "..").
bool is_valid_profile_name(const char* name);

// Bytes of a profile file with embedding size D and rank k.
std::size_t profile_file_bytes(std::uint32_t embedding_size, std::uint32_t rank);

// Writes a profile into `out` (profile_file_bytes() bytes): header, checksum and the arrays
// mean[D], precisions[k] (1/λᵢ) and components[k][D] (row i = uᵢ, orthonormal rows). Checks
// what load() checks, so that no invalid profile is ever written.
Status encode_profile(const ProfileHeader& header, const float* mean, const float* precisions, const float* components,
                      std::uint8_t* out, std::size_t out_bytes);

class Profile {
 public:
  // Validates `data` (magic, version, size, checksum, header fields, finite arrays, positive
  // precisions) and views it. `data` must be 4-byte aligned and outlive the Profile.
  static Status load(const std::uint8_t* data, std::size_t size, Profile* out);

  const ProfileHeader& header() const { return header_; }
  const float* mean() const { return mean_; }
  const float* precisions() const { return precisions_; }
  const float* components() const { return components_; }  // k rows of D

  // The distance (see the top of this file) of an int8 embedding of D values, dequantized with
  // the header's scale and zero point. Accumulates in float: the same code runs on a Cortex-M4F.
  float distance(const std::int8_t* embedding) const;
  // The distance of the mean of `count` int8 embeddings whose element-wise sums are `sums`.
  float distance_of_sum(const std::int32_t* sums, std::int64_t count) const;

 private:
  ProfileHeader header_;
  const float* mean_ = nullptr;
  const float* precisions_ = nullptr;
  const float* components_ = nullptr;
};

}  // namespace micronet_ad
