// Enrolment (profile_fit.h): Ledoit–Wolf covariance, principal axes, leave-one-clip-out threshold.
#include "host/profile/profile_fit.h"

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace micronet_ad::host {
namespace {

using Matrix = Eigen::MatrixXd;
using Vector = Eigen::VectorXd;
using Index = Eigen::Index;

// Eigenvalues are raised to at least this fraction of the mean eigenvalue (trace / D): a direction
// the normal windows never moved in would otherwise get an infinite precision.
constexpr double kEigenvalueFloor = 1e-6;

[[noreturn]] void bad_input(const std::string& message) { throw std::invalid_argument(message); }
[[noreturn]] void bad_fit(const std::string& message) { throw std::runtime_error(message); }

std::string number(double x) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", x);
  return text;
}

// The number of windows of a clip, after checking it has a whole number of them.
std::size_t windows_of(const ClipEmbeddings& clip, std::uint32_t d) {
  if (clip.windows.empty()) bad_input("clip '" + clip.name + "' has no windows");
  if (clip.windows.size() % d != 0)
    bad_input("clip '" + clip.name + "' has " + std::to_string(clip.windows.size()) +
              " embedding values, not a multiple of the embedding size " + std::to_string(d));
  return clip.windows.size() / d;
}

void check_options(const FitOptions& o, std::uint32_t d) {
  // A std::string may hold a NUL the file's NUL-padded name field could not keep.
  if (o.name.size() != std::strlen(o.name.c_str()) || !is_valid_profile_name(o.name.c_str()))
    bad_input("machine name '" + o.name + "' must be 1.." + std::to_string(kProfileNameBytes - 1) +
              " characters of A-Z a-z 0-9 _ . - (and not . or ..)");
  if (d < 1 || d > static_cast<std::uint32_t>(kProfileMaxEmbedding))
    bad_input("embedding size " + std::to_string(d) + ", expected 1.." + std::to_string(kProfileMaxEmbedding));
  if (o.rank > d) bad_input("rank " + std::to_string(o.rank) + " is above the embedding size " + std::to_string(d));
  if (!(o.quantile > 0.0 && o.quantile <= 1.0 && static_cast<float>(o.quantile) > 0.0f))
    bad_input("threshold quantile " + number(o.quantile) + ", expected a value in (0, 1]");
  if (!(o.embedding_scale > 0.0f) || !std::isfinite(o.embedding_scale))
    bad_input("embedding scale " + number(o.embedding_scale) + ", expected a finite value > 0");
  if (o.embedding_zero_point < -128 || o.embedding_zero_point > 127)
    bad_input("embedding zero point " + std::to_string(o.embedding_zero_point) + " is not int8");
}

// Every window of every clip, dequantized in double, one row each; clip c owns rows
// [first[c], first[c + 1]). Stored minus `origin`, their overall mean: each leave-one-out fold's
// sums are the total minus one clip's, and centred values keep that subtraction accurate.
struct Pooled {
  Matrix rows;
  Vector origin;
  std::vector<Index> first;
};

Pooled pool(const std::vector<ClipEmbeddings>& clips, std::uint32_t d, const FitOptions& o) {
  Pooled p;
  p.first.push_back(0);
  for (const ClipEmbeddings& clip : clips) p.first.push_back(p.first.back() + static_cast<Index>(windows_of(clip, d)));
  p.rows.resize(p.first.back(), d);
  const double scale = o.embedding_scale;
  for (std::size_t c = 0; c < clips.size(); ++c) {
    const std::int8_t* q = clips[c].windows.data();
    for (Index r = p.first[c]; r < p.first[c + 1]; ++r)
      for (Index j = 0; j < static_cast<Index>(d); ++j, ++q) p.rows(r, j) = scale * (*q - o.embedding_zero_point);
  }
  p.origin = p.rows.colwise().mean().transpose();
  p.rows.rowwise() -= p.origin.transpose();
  return p;
}

// Σ y and Σ y yᵀ over some rows: all a fit needs of them but the fourth moments.
struct Sums {
  double n = 0;
  Vector first;
  Matrix second;
};

Sums sums_of(const Eigen::Ref<const Matrix>& y) {
  return {static_cast<double>(y.rows()), y.colwise().sum().transpose(), y.transpose() * y};
}

Sums without(const Sums& all, const Sums& part) {
  return {all.n - part.n, all.first - part.first, all.second - part.second};
}

// Σ over rows of ‖y − m‖⁴: the β term of Ledoit–Wolf.
double fourth_moment_sum(const Eigen::Ref<const Matrix>& y, const Vector& m) {
  return (y.rowwise() - m.transpose()).rowwise().squaredNorm().array().square().sum();
}

struct Estimate {
  Vector mean;        // of the windows, dequantized
  Matrix covariance;  // shrunk
  double shrinkage = 0;
};

// Ledoit–Wolf estimate over the rows of `p` outside [skip_begin, skip_end), whose sums are `s`.
// As scikit-learn's ledoit_wolf (assume_centered=False), S = sample covariance divided by n:
//   μ = tr(S)/D,  β = (Σₖ‖xₖ − x̄‖⁴/n − ‖S‖²_F) / (D n),  δ = ‖S − μI‖²_F / D,
//   shrinkage = min(β, δ)/δ,  Σ = (1 − shrinkage) S + shrinkage μ I.
Estimate ledoit_wolf(const Pooled& p, const Sums& s, Index skip_begin, Index skip_end) {
  const double n = s.n;
  const Index d = s.second.rows();
  Estimate e;
  e.mean = s.first / n;
  const Matrix sample = s.second / n - e.mean * e.mean.transpose();
  const double mu = sample.trace() / d;
  const double fourth = fourth_moment_sum(p.rows.topRows(skip_begin), e.mean) +
                        fourth_moment_sum(p.rows.bottomRows(p.rows.rows() - skip_end), e.mean);
  const double beta = (fourth / n - sample.squaredNorm()) / (d * n);
  const double delta = (sample - mu * Matrix::Identity(d, d)).squaredNorm() / d;
  // δ = 0: S is already μI and shrinking changes nothing. The clamp only absorbs rounding.
  e.shrinkage = delta > 0 ? std::clamp(std::min(beta, delta) / delta, 0.0, 1.0) : 0.0;
  e.covariance = (1.0 - e.shrinkage) * sample;
  e.covariance.diagonal().array() += e.shrinkage * mu;
  e.mean += p.origin;
  return e;
}

// Converts for the file; a value float cannot hold must not reach a profile.
float finite_float(double x, const char* what) {
  const float f = static_cast<float>(x);
  if (!std::isfinite(f))
    bad_fit(std::string("the profile's ") + what + " is not finite in float (embedding scale out of range?)");
  return f;
}
float positive_float(double x, const char* what) {
  const float f = finite_float(x, what);
  if (!(f > 0.0f))
    bad_fit(std::string("the profile's ") + what + " underflows to 0 in float (embedding scale out of range?)");
  return f;
}

// The profile's arrays but the mean: top-k axes, descending, and the residual precision.
struct Axes {
  std::vector<float> precisions;  // 1/λᵢ
  std::vector<float> components;  // k rows of D
  float residual_precision = 0;   // 1 / mean of the other D − k eigenvalues; 0 when k = D
};

Axes principal_axes(const Matrix& covariance, std::uint32_t rank) {
  const Index d = covariance.rows(), k = rank;
  const double floor = kEigenvalueFloor * covariance.trace() / d;
  if (!(floor > 0.0) || !std::isfinite(floor))
    bad_fit("the windows do not vary (every embedding is the same): there is no spread to learn a profile from");
  const Eigen::SelfAdjointEigenSolver<Matrix> solver(covariance);
  if (solver.info() != Eigen::Success) bad_fit("the eigendecomposition of the covariance did not converge");
  // Eigen sorts eigenvalues ascending: axis i (descending) is column d − 1 − i.
  const auto value = [&](Index i) { return std::max(solver.eigenvalues()(d - 1 - i), floor); };
  Axes a;
  for (Index i = 0; i < k; ++i) {
    a.precisions.push_back(positive_float(1.0 / value(i), "precision"));
    for (Index j = 0; j < d; ++j)
      a.components.push_back(finite_float(solver.eigenvectors()(j, d - 1 - i), "component"));
  }
  if (k < d) {
    double rest = 0;
    for (Index i = k; i < d; ++i) rest += value(i);
    a.residual_precision = positive_float(static_cast<double>(d - k) / rest, "residual precision");
  }
  return a;
}

// The header fields that come from the options; the fit fills in the rest.
ProfileHeader options_header(const FitOptions& o, std::uint32_t d) {
  ProfileHeader h;
  std::copy(o.model_sha1.begin(), o.model_sha1.end(), h.model_sha1);
  h.framing = o.framing;
  h.resize = o.resize;
  h.aggregate = o.aggregate;
  h.embedding_size = d;
  h.threshold_quantile = static_cast<float>(o.quantile);
  h.embedding_scale = o.embedding_scale;
  h.embedding_zero_point = o.embedding_zero_point;
  std::memcpy(h.name, o.name.c_str(), o.name.size());  // checked: at most 31 characters
  return h;
}

// Encodes the profile of an estimate, filling in `h`'s rank, residual precision and shrinkage.
std::vector<std::uint8_t> encode(const Estimate& e, std::uint32_t rank, ProfileHeader& h) {
  const Axes axes = principal_axes(e.covariance, rank);
  h.rank = rank;
  h.residual_precision = axes.residual_precision;
  h.shrinkage = static_cast<float>(e.shrinkage);
  std::vector<float> mean(static_cast<std::size_t>(e.mean.size()));
  for (std::size_t j = 0; j < mean.size(); ++j) mean[j] = finite_float(e.mean(static_cast<Index>(j)), "mean");
  std::vector<std::uint8_t> bytes(profile_file_bytes(h.embedding_size, rank));
  const Status s =
      encode_profile(h, mean.data(), axes.precisions.data(), axes.components.data(), bytes.data(), bytes.size());
  if (!s) bad_fit(s.message());
  return bytes;
}

// A clip's score as the Detector forms it (ProfileAggregate): the distance of its mean embedding
// from int32 sums, or the mean of its window distances.
double clip_score(const Profile& profile, const ClipEmbeddings& clip) {
  const std::uint32_t d = profile.header().embedding_size;
  const std::size_t windows = windows_of(clip, d);
  if (profile.header().aggregate == ProfileAggregate::kClipMeanEmbedding) {
    std::vector<std::int32_t> sums(d, 0);
    for (std::size_t w = 0; w < windows; ++w)
      for (std::uint32_t j = 0; j < d; ++j) sums[j] += clip.windows[w * d + j];
    return profile.distance_of_sum(sums.data(), static_cast<std::int64_t>(windows));
  }
  double sum = 0;
  for (std::size_t w = 0; w < windows; ++w) sum += profile.distance(clip.windows.data() + w * d);
  return sum / static_cast<double>(windows);
}

// Clip c's score under the profile of every other clip, computed as scoring will: the profile is
// encoded and loaded, and the core's float distance runs on the clip's int8 windows.
double held_out_score(const Pooled& p, const Sums& all, const std::vector<ClipEmbeddings>& clips, std::size_t c,
                      std::uint32_t rank, ProfileHeader h) {
  const Index begin = p.first[c], end = p.first[c + 1];
  const Sums rest = without(all, sums_of(p.rows.middleRows(begin, end - begin)));
  h.clips = static_cast<std::uint32_t>(clips.size() - 1);
  h.windows = static_cast<std::uint32_t>(rest.n);
  const std::vector<std::uint8_t> bytes = encode(ledoit_wolf(p, rest, begin, end), rank, h);
  Profile profile;  // std::vector's storage comes from operator new: aligned for float
  if (const Status s = Profile::load(bytes.data(), bytes.size(), &profile); !s) bad_fit(s.message());
  const double score = clip_score(profile, clips[c]);
  if (!std::isfinite(score))
    bad_fit("the leave-one-out score of clip '" + clips[c].name +
            "' is not finite (its windows are far outside the others')");
  return score;
}

// numpy.quantile's default ("linear"): index h = (n − 1) q between sorted neighbours, with numpy's
// lerp, which interpolates from the upper neighbour when t ≥ 0.5, so the digits match numpy's.
double linear_quantile(std::vector<double> x, double q) {
  std::sort(x.begin(), x.end());
  const double h = static_cast<double>(x.size() - 1) * q;
  const std::size_t lo = static_cast<std::size_t>(std::floor(h));
  const std::size_t hi = std::min(lo + 1, x.size() - 1);
  const double t = h - static_cast<double>(lo), diff = x[hi] - x[lo];
  return t >= 0.5 ? x[hi] - diff * (1.0 - t) : x[lo] + diff * t;
}

}  // namespace

FitResult fit_profile(const std::vector<ClipEmbeddings>& clips, std::uint32_t embedding_size,
                      const FitOptions& options) {
  if (clips.size() < 2)
    bad_input("need at least 2 normal clips to fit and calibrate a profile, got " + std::to_string(clips.size()));
  check_options(options, embedding_size);
  const std::uint32_t d = embedding_size, rank = options.rank == 0 ? d : options.rank;
  const Pooled p = pool(clips, d, options);
  const Index windows = p.rows.rows();
  if (windows > std::numeric_limits<std::uint32_t>::max() || clips.size() > std::numeric_limits<std::uint32_t>::max())
    bad_input("too many windows for one profile: " + std::to_string(windows));
  const Sums all = sums_of(p.rows);
  const ProfileHeader base = options_header(options, d);

  FitResult r;
  for (std::size_t c = 0; c < clips.size(); ++c) r.loo_scores.push_back(held_out_score(p, all, clips, c, rank, base));
  r.header = base;
  r.header.clips = static_cast<std::uint32_t>(clips.size());
  r.header.windows = static_cast<std::uint32_t>(windows);
  r.header.threshold = finite_float(linear_quantile(r.loo_scores, options.quantile), "threshold");
  r.bytes = encode(ledoit_wolf(p, all, 0, 0), rank, r.header);
  if (windows <= static_cast<Index>(d))
    r.warning = "only " + std::to_string(windows) + " windows for " + std::to_string(d) +
                " embedding dimensions: the sample covariance is singular and the profile rests on Ledoit-Wolf "
                "shrinkage " +
                number(r.header.shrinkage) + " toward a scaled identity; enrol more or longer clips";
  return r;
}

std::vector<double> clip_scores(const Profile& profile, const std::vector<ClipEmbeddings>& clips) {
  std::vector<double> scores;
  scores.reserve(clips.size());
  for (const ClipEmbeddings& clip : clips) scores.push_back(clip_score(profile, clip));
  return scores;
}

}  // namespace micronet_ad::host
