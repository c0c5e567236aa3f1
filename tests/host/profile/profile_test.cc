// Machine profiles: the core file format and distance (include/micronet_ad/profile.h) and the
// fit (src/host/profile/profile_fit.h). Every expected value is computed here independently of
// the code under test: the byte layout from docs/profile-format.md, CRC-32 by table, Ledoit–Wolf
// in plain double loops as scikit-learn writes it, Mahalanobis distances by a Cholesky solve
// (no eigendecomposition), numpy's linear quantile. Synthetic int8 embeddings, fixed seeds.
#include <gtest/gtest.h>

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "host/profile/profile_fit.h"
#include "micronet_ad/profile.h"

namespace micronet_ad {
namespace {

using host::clip_scores;
using host::ClipEmbeddings;
using host::fit_profile;
using host::FitOptions;
using host::FitResult;
using Bytes = std::vector<std::uint8_t>;

// ---- bytes, as docs/profile-format.md lays them out -----------------------------------------

std::uint32_t get_u32(const Bytes& b, std::size_t at) {
  return b[at] | b[at + 1] << 8 | b[at + 2] << 16 | static_cast<std::uint32_t>(b[at + 3]) << 24;
}
void put_u32(Bytes& b, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
}
float get_f32(const Bytes& b, std::size_t at) {
  const std::uint32_t bits = get_u32(b, at);
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}
void put_f32(Bytes& b, std::size_t at, float f) {
  std::uint32_t bits;
  std::memcpy(&bits, &f, 4);
  put_u32(b, at, bits);
}

// CRC-32/ISO-HDLC by the usual 256-entry table (profile.cc goes bit by bit).
std::uint32_t crc32(const Bytes& b) {
  static const std::vector<std::uint32_t> table = [] {
    std::vector<std::uint32_t> t(256);
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  std::uint32_t c = 0xFFFFFFFFu;
  for (std::uint8_t x : b) c = table[(c ^ x) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}
// Rewrites the checksum (over the file with its own field zeroed) after an edit.
void fix_crc(Bytes& b) {
  put_u32(b, 16, 0);
  put_u32(b, 16, crc32(b));
}

// ---- hand-made profiles for the format and distance tests -------------------------------------

struct Parts {
  ProfileHeader header;
  std::vector<float> mean, precisions, components;
};

// Every header field set to a value distinct from its default.
ProfileHeader sample_header(std::uint32_t d, std::uint32_t k) {
  ProfileHeader h;
  for (int i = 0; i < 20; ++i) h.model_sha1[i] = static_cast<std::uint8_t>(0xA0 + i);
  h.framing = Framing::kKit;
  h.resize = Resize::kDecimate;
  h.embedding_size = d;
  h.rank = k;
  h.clips = 7;
  h.windows = 93;
  h.threshold = 12.5f;
  h.threshold_quantile = 0.9f;
  h.residual_precision = k < d ? 0.25f : 0.0f;
  h.shrinkage = 0.3f;
  h.embedding_scale = 0.0625f;
  h.embedding_zero_point = -3;
  std::strcpy(h.name, "fan-id_00.v2");
  return h;
}

Parts random_parts(std::uint32_t d, std::uint32_t k, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-2.0f, 2.0f);
  Parts p{sample_header(d, k), {}, {}, {}};
  for (std::uint32_t i = 0; i < d; ++i) p.mean.push_back(u(rng));
  for (std::uint32_t i = 0; i < k; ++i) p.precisions.push_back(0.5f + std::abs(u(rng)));
  for (std::uint32_t i = 0; i < k * d; ++i) p.components.push_back(u(rng));
  return p;
}

Bytes encode(const Parts& p) {
  Bytes b(profile_file_bytes(p.header.embedding_size, p.header.rank));
  const Status s =
      encode_profile(p.header, p.mean.data(), p.precisions.data(), p.components.data(), b.data(), b.size());
  EXPECT_TRUE(s.ok()) << s.message();
  return b;
}

// std::vector's storage comes from operator new: aligned for float, as load() requires.
Profile load_ok(const Bytes& b) {
  Profile profile;
  const Status s = Profile::load(b.data(), b.size(), &profile);
  EXPECT_TRUE(s.ok()) << s.message();
  return profile;
}

std::string load_error(const Bytes& b) {
  Profile profile;
  const Status s = Profile::load(b.data(), b.size(), &profile);
  return s.ok() ? "(loaded)" : s.message();
}

// ---- double-precision references ---------------------------------------------------------------

using Rows = std::vector<std::vector<double>>;  // windows × D

Rows dequantize(const std::vector<ClipEmbeddings>& clips, std::uint32_t d, double scale, int zero_point) {
  Rows rows;
  for (const ClipEmbeddings& c : clips)
    for (std::size_t w = 0; w < c.windows.size() / d; ++w) {
      std::vector<double> x(d);
      for (std::uint32_t j = 0; j < d; ++j) x[j] = scale * (c.windows[w * d + j] - zero_point);
      rows.push_back(x);
    }
  return rows;
}

struct LedoitWolf {
  std::vector<double> mean;
  Eigen::MatrixXd covariance;
  double shrinkage = 0;
};

// scikit-learn's ledoit_wolf(X) (assume_centered=False), transcribed loop by loop from
// ledoit_wolf_shrinkage: beta_ = sum(X2ᵀX2), delta_ = sum((XᵀX)²)/n², …
LedoitWolf plain_ledoit_wolf(const Rows& x) {
  const std::size_t n = x.size(), d = x[0].size();
  LedoitWolf lw;
  lw.mean.assign(d, 0.0);
  for (const auto& row : x)
    for (std::size_t j = 0; j < d; ++j) lw.mean[j] += row[j] / n;
  Rows xc = x;
  for (auto& row : xc)
    for (std::size_t j = 0; j < d; ++j) row[j] -= lw.mean[j];
  Eigen::MatrixXd s(d, d);
  double beta_ = 0, delta_ = 0;
  for (std::size_t i = 0; i < d; ++i)
    for (std::size_t j = 0; j < d; ++j) {
      double xx = 0, x2x2 = 0;
      for (std::size_t k = 0; k < n; ++k) {
        xx += xc[k][i] * xc[k][j];
        x2x2 += xc[k][i] * xc[k][i] * xc[k][j] * xc[k][j];
      }
      s(i, j) = xx / n;
      beta_ += x2x2;
      delta_ += xx * xx;
    }
  delta_ /= static_cast<double>(n) * n;
  double trace = 0;
  for (std::size_t i = 0; i < d; ++i) trace += s(i, i);
  const double mu = trace / d;
  double beta = 1.0 / (d * n) * (beta_ / n - delta_);
  double delta = (delta_ - 2.0 * mu * trace + d * mu * mu) / d;
  beta = std::min(beta, delta);
  lw.shrinkage = beta == 0 ? 0 : beta / delta;
  lw.covariance = (1 - lw.shrinkage) * s;
  for (std::size_t i = 0; i < d; ++i) lw.covariance(i, i) += lw.shrinkage * mu;
  return lw;
}

// dᵀ Σ⁻¹ d by Cholesky solve.
double mahalanobis(const Eigen::MatrixXd& sigma, const std::vector<double>& mean, const std::vector<double>& x) {
  Eigen::VectorXd d(mean.size());
  for (std::size_t j = 0; j < mean.size(); ++j) d(j) = x[j] - mean[j];
  const Eigen::LLT<Eigen::MatrixXd> llt(sigma);
  EXPECT_EQ(llt.info(), Eigen::Success);
  return d.dot(llt.solve(d));
}

// numpy.quantile(x, q), method "linear": x_sorted[floor(h)] + (h − floor(h))·(next − it), h = (n−1)q.
double numpy_quantile(std::vector<double> x, double q) {
  std::sort(x.begin(), x.end());
  const double h = (x.size() - 1) * q;
  const std::size_t lo = static_cast<std::size_t>(h);
  const std::size_t hi = std::min(lo + 1, x.size() - 1);
  return x[lo] + (h - lo) * (x[hi] - x[lo]);
}

bool near_relative(double got, double want, double tolerance) {
  return std::abs(got - want) <= tolerance * std::max(std::abs(want), 1e-30);
}

// ---- synthetic embeddings ----------------------------------------------------------------------

constexpr float kScale = 0.05f;
constexpr int kZeroPoint = -20;

// A latent-factor model of window embeddings: q = round(zp + offset + A z + noise), z ~ N(0, I).
class Machine {
 public:
  Machine(std::uint32_t d, int factors, unsigned seed) : d_(d), factors_(factors), rng_(seed) {
    std::normal_distribution<double> g;
    for (std::uint32_t j = 0; j < d; ++j) offset_.push_back(40 + 10 * g(rng_));
    for (std::uint32_t j = 0; j < d * factors; ++j) loadings_.push_back(6 * g(rng_));
  }
  // `shift`: added to the first quarter of the channels (an anomaly).
  ClipEmbeddings clip(const std::string& name, int windows, double shift = 0) {
    std::normal_distribution<double> g;
    ClipEmbeddings c{name, {}};
    for (int w = 0; w < windows; ++w) {
      std::vector<double> z(factors_);
      for (double& v : z) v = g(rng_);
      for (std::uint32_t j = 0; j < d_; ++j) {
        double q = kZeroPoint + offset_[j] + 2.5 * g(rng_) + (j < d_ / 4 ? shift : 0);
        for (int f = 0; f < factors_; ++f) q += loadings_[j * factors_ + f] * z[f];
        c.windows.push_back(static_cast<std::int8_t>(std::clamp(std::lround(q), -128L, 127L)));
      }
    }
    return c;
  }
  std::vector<ClipEmbeddings> clips(int count, int windows, const std::string& prefix = "normal_") {
    std::vector<ClipEmbeddings> out;
    for (int i = 0; i < count; ++i) out.push_back(clip(prefix + std::to_string(i), windows));
    return out;
  }

 private:
  std::uint32_t d_;
  int factors_;
  std::mt19937 rng_;
  std::vector<double> offset_, loadings_;
};

FitOptions options(std::uint32_t rank = 0, double quantile = 0.95) {
  FitOptions o;
  o.name = "slider_id_00";
  for (int i = 0; i < 20; ++i) o.model_sha1[i] = static_cast<std::uint8_t>(i * 13 + 1);
  o.framing = Framing::kKit;
  o.resize = Resize::kDecimate;
  o.embedding_scale = kScale;
  o.embedding_zero_point = kZeroPoint;
  o.rank = rank;
  o.quantile = quantile;
  // Most tests check the mean of window distances; the clip-mean aggregate has its own below.
  o.aggregate = ProfileAggregate::kMeanWindowDistance;
  return o;
}

// The covariance the profile encodes, Σᵢ λᵢ uᵢuᵢᵀ (full rank).
Eigen::MatrixXd covariance_of(const Profile& p) {
  const std::uint32_t d = p.header().embedding_size, k = p.header().rank;
  Eigen::MatrixXd sigma = Eigen::MatrixXd::Zero(d, d);
  for (std::uint32_t i = 0; i < k; ++i)
    for (std::uint32_t a = 0; a < d; ++a)
      for (std::uint32_t b = 0; b < d; ++b)
        sigma(a, b) += p.components()[i * d + a] * double(p.components()[i * d + b]) / p.precisions()[i];
  return sigma;
}

// The probabilistic-PCA covariance Σᵢ λᵢuᵢuᵢᵀ + σ²(I − Σᵢ uᵢuᵢᵀ) a compact profile stands for.
Eigen::MatrixXd ppca_covariance_of(const Profile& p) {
  const std::uint32_t d = p.header().embedding_size, k = p.header().rank;
  const double sigma2 = 1.0 / p.header().residual_precision;
  Eigen::MatrixXd c = sigma2 * Eigen::MatrixXd::Identity(d, d);
  for (std::uint32_t i = 0; i < k; ++i) {
    const double lambda = 1.0 / p.precisions()[i];
    for (std::uint32_t a = 0; a < d; ++a)
      for (std::uint32_t b = 0; b < d; ++b)
        c(a, b) += (lambda - sigma2) * p.components()[i * d + a] * double(p.components()[i * d + b]);
  }
  return c;
}

std::vector<double> dequantized(const Profile& p, const std::int8_t* q) {
  std::vector<double> x(p.header().embedding_size);
  for (std::size_t j = 0; j < x.size(); ++j)
    x[j] = double(p.header().embedding_scale) * (q[j] - p.header().embedding_zero_point);
  return x;
}

std::vector<double> mean_of(const Profile& p) {
  return std::vector<double>(p.mean(), p.mean() + p.header().embedding_size);
}

// ================================ core: the file format =====================================

TEST(ProfileFormat, FileSizes) {
  EXPECT_EQ(profile_file_bytes(276, 276), 128u + 4u * (276 + 276 + 276 * 276));
  EXPECT_EQ(profile_file_bytes(276, 276), 307040u);
  EXPECT_EQ(profile_file_bytes(276, 32), 36688u);
  EXPECT_EQ(profile_file_bytes(248, 16), 128u + 4u * (248 + 16 + 16 * 248));
  EXPECT_EQ(profile_file_bytes(1, 1), 140u);
}

TEST(ProfileFormat, RoundTripPreservesEveryFieldAndArray) {
  for (std::uint32_t k : {3u, 8u}) {
    const Parts p = random_parts(8, k, 11 + k);
    const Bytes b = encode(p);
    const Profile profile = load_ok(b);
    const ProfileHeader& h = profile.header();
    const ProfileHeader& w = p.header;
    EXPECT_EQ(0, std::memcmp(h.model_sha1, w.model_sha1, 20));
    EXPECT_EQ(h.framing, w.framing);
    EXPECT_EQ(h.resize, w.resize);
    EXPECT_EQ(h.aggregate, w.aggregate);
    EXPECT_EQ(h.embedding_size, 8u);
    EXPECT_EQ(h.rank, k);
    EXPECT_EQ(h.clips, w.clips);
    EXPECT_EQ(h.windows, w.windows);
    EXPECT_EQ(h.threshold, w.threshold);
    EXPECT_EQ(h.threshold_quantile, w.threshold_quantile);
    EXPECT_EQ(h.residual_precision, w.residual_precision);
    EXPECT_EQ(h.shrinkage, w.shrinkage);
    EXPECT_EQ(h.embedding_scale, w.embedding_scale);
    EXPECT_EQ(h.embedding_zero_point, w.embedding_zero_point);
    EXPECT_STREQ(h.name, w.name);
    EXPECT_EQ(std::vector<float>(profile.mean(), profile.mean() + 8), p.mean);
    EXPECT_EQ(std::vector<float>(profile.precisions(), profile.precisions() + k), p.precisions);
    EXPECT_EQ(std::vector<float>(profile.components(), profile.components() + k * 8), p.components);
    // A view: the arrays are the file's bytes, not copies.
    EXPECT_EQ(reinterpret_cast<const std::uint8_t*>(profile.mean()), b.data() + 128);
  }
}

// The bytes at the offsets docs/profile-format.md gives.
TEST(ProfileFormat, LayoutMatchesTheDocument) {
  const Parts p = random_parts(5, 2, 3);
  const Bytes b = encode(p);
  ASSERT_EQ(b.size(), 128u + 4 * (5 + 2 + 10));
  EXPECT_EQ(std::string(b.begin(), b.begin() + 8), "MNADPROF");
  EXPECT_EQ(get_u32(b, 8), 1u);
  EXPECT_EQ(get_u32(b, 12), b.size());
  EXPECT_EQ(b[20], 0xA0);
  EXPECT_EQ(b[39], 0xA0 + 19);
  EXPECT_EQ(b[40], 1);  // kit
  EXPECT_EQ(b[41], 1);  // decimate
  EXPECT_EQ(b[42], 0);  // mean window distance
  EXPECT_EQ(b[43], 0);
  EXPECT_EQ(get_u32(b, 44), 5u);
  EXPECT_EQ(get_u32(b, 48), 2u);
  EXPECT_EQ(get_u32(b, 52), 7u);
  EXPECT_EQ(get_u32(b, 56), 93u);
  EXPECT_EQ(get_f32(b, 60), 12.5f);
  EXPECT_EQ(get_f32(b, 64), 0.9f);
  EXPECT_EQ(get_f32(b, 68), 0.25f);
  EXPECT_EQ(get_f32(b, 72), 0.3f);
  EXPECT_EQ(get_f32(b, 76), 0.0625f);
  EXPECT_EQ(static_cast<std::int32_t>(get_u32(b, 80)), -3);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(b.data() + 84)), "fan-id_00.v2");
  for (std::size_t i = 84 + 12; i < 128; ++i) EXPECT_EQ(b[i], 0) << "byte " << i;
  for (std::size_t j = 0; j < 5; ++j) EXPECT_EQ(get_f32(b, 128 + 4 * j), p.mean[j]);
  for (std::size_t i = 0; i < 2; ++i) EXPECT_EQ(get_f32(b, 128 + 20 + 4 * i), p.precisions[i]);
  for (std::size_t i = 0; i < 10; ++i) EXPECT_EQ(get_f32(b, 128 + 28 + 4 * i), p.components[i]);
  Bytes zeroed = b;
  put_u32(zeroed, 16, 0);
  EXPECT_EQ(get_u32(b, 16), crc32(zeroed));
}

struct Corruption {
  const char* what;
  bool full_rank;  // edit a k = D profile (else D = 4, k = 2)
  std::function<void(Bytes&)> edit;
  bool fix_checksum;    // so that the edit reaches the field checks
  const char* message;  // a part of the expected error
};

TEST(ProfileFormat, EveryValidationErrorIsNamed) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  constexpr std::size_t kMean = 128, kPrecisions = 128 + 4 * 4, kComponents = kPrecisions + 4 * 2;
  const std::vector<Corruption> cases = {
      {"bad magic", false, [](Bytes& b) { b[3] = 'X'; }, true, "no MNADPROF header"},
      {"shorter than a header", false, [](Bytes& b) { b.resize(127); }, false, "no MNADPROF header"},
      {"version 2", false, [](Bytes& b) { put_u32(b, 8, 2); }, true, "format version 2"},
      {"truncated by 1 byte", false, [](Bytes& b) { b.pop_back(); }, false, "truncated or padded"},
      {"padded by 1 byte", false, [](Bytes& b) { b.push_back(0); }, false, "truncated or padded"},
      {"size field", false, [](Bytes& b) { put_u32(b, 12, get_u32(b, 12) + 4); }, true, "truncated or padded"},
      {"CRC: a data byte flipped", false, [](Bytes& b) { b[kComponents + 5] ^= 0x10; }, false, "checksum mismatch"},
      {"CRC: a header byte flipped", false, [](Bytes& b) { b[60] ^= 1; }, false, "checksum mismatch"},
      {"CRC: its own field", false, [](Bytes& b) { b[18] ^= 1; }, false, "checksum mismatch"},
      {"NaN in mean", false, [&](Bytes& b) { put_f32(b, kMean + 4, nan); }, true, "mean has a NaN"},
      {"Inf in mean", false, [&](Bytes& b) { put_f32(b, kMean, -inf); }, true, "mean has a NaN or infinite"},
      {"NaN in components", false, [&](Bytes& b) { put_f32(b, kComponents + 28, nan); }, true, "components have a NaN"},
      {"precision 0", false, [](Bytes& b) { put_f32(b, kPrecisions + 4, 0.0f); }, true,
       "precision 1 is not finite and > 0"},
      {"precision < 0", false, [](Bytes& b) { put_f32(b, kPrecisions, -1.0f); }, true,
       "precision 0 is not finite and > 0"},
      {"precision Inf", false, [&](Bytes& b) { put_f32(b, kPrecisions, inf); }, true, "precision 0 is not finite"},
      {"precision NaN", false, [&](Bytes& b) { put_f32(b, kPrecisions, nan); }, true, "precision 0 is not finite"},
      {"rank > D", false, [](Bytes& b) { put_u32(b, 48, 5); }, true, "rank 5 do not match"},
      {"rank 0", false, [](Bytes& b) { put_u32(b, 48, 0); }, true, "rank 0 do not match"},
      {"embedding size 0", false, [](Bytes& b) { put_u32(b, 44, 0); }, true, "embedding size 0"},
      {"embedding size > kProfileMaxEmbedding", false, [](Bytes& b) { put_u32(b, 44, 5000); }, true,
       "embedding size 5000"},
      {"residual precision 0 with k < D", false, [](Bytes& b) { put_f32(b, 68, 0.0f); }, true,
       "residual precision > 0 is required exactly when rank < embedding size"},
      {"residual precision > 0 with k = D", true, [](Bytes& b) { put_f32(b, 68, 0.5f); }, true,
       "residual precision > 0 is required exactly when rank < embedding size"},
      {"residual precision < 0", false, [](Bytes& b) { put_f32(b, 68, -0.5f); }, true,
       "residual precision must be finite and >= 0"},
      {"residual precision NaN", false, [&](Bytes& b) { put_f32(b, 68, nan); }, true,
       "residual precision must be finite"},
      {"residual precision Inf", false, [&](Bytes& b) { put_f32(b, 68, inf); }, true,
       "residual precision must be finite"},
      {"name with '/'", false, [](Bytes& b) { b[84 + 3] = '/'; }, true, "machine name must be 1..31 characters"},
      {"empty name", false, [](Bytes& b) { std::fill(b.begin() + 84, b.begin() + 116, 0); }, true,
       "machine name must be"},
      {"name '..'", false, [](Bytes& b) { std::fill(b.begin() + 84, b.begin() + 116, 0), b[84] = b[85] = '.'; }, true,
       "machine name must be"},
      {"name of 32 characters", false, [](Bytes& b) { std::fill(b.begin() + 84, b.begin() + 116, 'a'); }, true,
       "machine name must be"},
      {"name not NUL-padded", false, [](Bytes& b) { b[84 + 20] = 'x'; }, true, "machine name is not NUL-padded"},
      {"reserved byte 43", false, [](Bytes& b) { b[43] = 1; }, true, "reserved header bytes are not zero"},
      {"reserved byte 116", false, [](Bytes& b) { b[116] = 0x80; }, true, "reserved header bytes are not zero"},
      {"reserved byte 127", false, [](Bytes& b) { b[127] = 1; }, true, "reserved header bytes are not zero"},
      {"unknown framing", false, [](Bytes& b) { b[40] = 2; }, true, "unknown framing"},
      {"unknown resize", false, [](Bytes& b) { b[41] = 9; }, true, "unknown resize"},
      {"unknown aggregate", false, [](Bytes& b) { b[42] = 7; }, true, "unknown clip aggregate"},
      {"no clips", false, [](Bytes& b) { put_u32(b, 52, 0); }, true, "0 clips and 93 windows"},
      {"fewer windows than clips", false, [](Bytes& b) { put_u32(b, 56, 6); }, true, "7 clips and 6 windows"},
      {"threshold Inf", false, [&](Bytes& b) { put_f32(b, 60, inf); }, true, "threshold is not finite"},
      {"threshold NaN", false, [&](Bytes& b) { put_f32(b, 60, nan); }, true, "threshold is not finite"},
      {"quantile 0", false, [](Bytes& b) { put_f32(b, 64, 0.0f); }, true, "threshold quantile must be in (0, 1]"},
      {"quantile > 1", false, [](Bytes& b) { put_f32(b, 64, 1.01f); }, true, "threshold quantile must be in (0, 1]"},
      {"shrinkage > 1", false, [](Bytes& b) { put_f32(b, 72, 1.5f); }, true, "shrinkage must be in [0, 1]"},
      {"shrinkage NaN", false, [&](Bytes& b) { put_f32(b, 72, nan); }, true, "shrinkage must be in [0, 1]"},
      {"scale 0", false, [](Bytes& b) { put_f32(b, 76, 0.0f); }, true, "embedding scale must be finite and > 0"},
      {"scale Inf", false, [&](Bytes& b) { put_f32(b, 76, inf); }, true, "embedding scale must be finite and > 0"},
      {"zero point 128", false, [](Bytes& b) { put_u32(b, 80, 128); }, true, "embedding zero point 128 is not int8"},
  };
  const Bytes compact = encode(random_parts(4, 2, 5));
  const Bytes full = encode(random_parts(4, 4, 6));
  ASSERT_EQ(load_error(compact), "(loaded)");
  ASSERT_EQ(load_error(full), "(loaded)");
  for (const Corruption& c : cases) {
    Bytes b = c.full_rank ? full : compact;
    c.edit(b);
    if (c.fix_checksum) fix_crc(b);
    EXPECT_NE(load_error(b).find(c.message), std::string::npos) << c.what << ": " << load_error(b);
  }
}

TEST(ProfileFormat, RefusesAnUnalignedPointerAndNoData) {
  const Bytes b = encode(random_parts(4, 2, 7));
  std::vector<float> storage(b.size() / 4 + 1);
  std::uint8_t* odd = reinterpret_cast<std::uint8_t*>(storage.data()) + 1;
  std::memcpy(odd, b.data(), b.size());
  Profile profile;
  Status s = Profile::load(odd, b.size(), &profile);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("4-byte aligned"), std::string::npos) << s.message();
  s = Profile::load(nullptr, b.size(), &profile);
  EXPECT_NE(std::string(s.message()).find("no data"), std::string::npos) << s.message();
}

// encode_profile() checks what load() checks, so that no invalid profile is ever written.
TEST(ProfileFormat, EncodeRefusesWhatLoadRefuses) {
  const auto error = [](Parts p, std::size_t bytes = 0) {
    Bytes b(bytes ? bytes
                  : profile_file_bytes(p.header.embedding_size, std::min(p.header.rank, p.header.embedding_size)) + 64);
    const Status s = encode_profile(p.header, p.mean.data(), p.precisions.data(), p.components.data(), b.data(),
                                    bytes ? bytes : b.size());
    return s.ok() ? std::string("(encoded)") : s.message();
  };
  Parts p = random_parts(4, 2, 8);
  EXPECT_EQ(error(p), "(encoded)");
  EXPECT_NE(error(p, 100).find("bytes needed"), std::string::npos);
  Parts q = p;
  q.header.rank = 5;
  EXPECT_NE(error(q).find("rank 5, expected 1..4"), std::string::npos) << error(q);
  q = p;
  q.mean[2] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_NE(error(q).find("mean has a NaN"), std::string::npos);
  q = p;
  q.precisions[1] = 0.0f;
  EXPECT_NE(error(q).find("precision 1"), std::string::npos);
  q = p;
  q.header.residual_precision = 0.0f;
  EXPECT_NE(error(q).find("residual precision > 0 is required"), std::string::npos);
  q = p;
  std::strcpy(q.header.name, "a/b");
  EXPECT_NE(error(q).find("machine name"), std::string::npos);
}

// ================================ core: the distance ========================================

// A profile with a random orthonormal basis (QR of a Gaussian matrix) and spread eigenvalues.
Parts basis_parts(std::uint32_t d, std::uint32_t k, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> g;
  Eigen::MatrixXd a(d, d);
  for (Eigen::Index i = 0; i < a.size(); ++i) a(i) = g(rng);
  const Eigen::MatrixXd q = Eigen::HouseholderQR<Eigen::MatrixXd>(a).householderQ();
  Parts p{sample_header(d, k), {}, {}, {}};
  p.header.embedding_scale = 0.03f;
  p.header.embedding_zero_point = -5;
  p.header.residual_precision = k < d ? 1.0f / 0.04f : 0.0f;  // σ² = 0.04, below every λ
  for (std::uint32_t j = 0; j < d; ++j) p.mean.push_back(static_cast<float>(0.5 + 0.2 * g(rng)));
  for (std::uint32_t i = 0; i < k; ++i) p.precisions.push_back(static_cast<float>(1.0 / (0.05 + 2.0 * (k - i) / k)));
  for (std::uint32_t i = 0; i < k; ++i)
    for (std::uint32_t j = 0; j < d; ++j) p.components.push_back(static_cast<float>(q(j, i)));
  return p;
}

std::vector<std::int8_t> random_embedding(std::uint32_t d, std::mt19937& rng) {
  std::uniform_int_distribution<int> u(-128, 127);
  std::vector<std::int8_t> e(d);
  for (auto& v : e) v = static_cast<std::int8_t>(u(rng));
  return e;
}

TEST(ProfileDistance, FullRankIsSquaredMahalanobis) {
  for (std::uint32_t d : {6u, 276u}) {
    const Bytes b = encode(basis_parts(d, d, 21));
    const Profile p = load_ok(b);
    const Eigen::MatrixXd sigma = covariance_of(p);
    std::mt19937 rng(22);
    for (int t = 0; t < 10; ++t) {
      const std::vector<std::int8_t> e = random_embedding(d, rng);
      const double want = mahalanobis(sigma, mean_of(p), dequantized(p, e.data()));
      EXPECT_TRUE(near_relative(p.distance(e.data()), want, 1e-4))
          << "D " << d << ": " << p.distance(e.data()) << " vs " << want;
    }
  }
}

TEST(ProfileDistance, CompactRankIsProbabilisticPca) {
  for (auto [d, k] : {std::pair{8u, 3u}, std::pair{276u, 32u}, std::pair{5u, 1u}}) {
    const Bytes b = encode(basis_parts(d, k, 31));
    const Profile p = load_ok(b);
    const Eigen::MatrixXd sigma = ppca_covariance_of(p);
    std::mt19937 rng(32);
    for (int t = 0; t < 10; ++t) {
      const std::vector<std::int8_t> e = random_embedding(d, rng);
      const double want = mahalanobis(sigma, mean_of(p), dequantized(p, e.data()));
      EXPECT_TRUE(near_relative(p.distance(e.data()), want, 1e-4))
          << "D " << d << " k " << k << ": " << p.distance(e.data()) << " vs " << want;
    }
  }
}

TEST(ProfileDistance, ZeroAtTheMeanAndDequantizesWithTheHeader) {
  Parts parts = basis_parts(4, 2, 41);
  parts.header.embedding_scale = 0.5f;
  parts.header.embedding_zero_point = 3;
  parts.mean = {0.5f, -1.0f, 0.0f, 2.0f};  // = 0.5 · (q − 3) for q = 4, 1, 3, 7
  const Bytes b = encode(parts);
  const Profile p = load_ok(b);
  const std::int8_t at_mean[4] = {4, 1, 3, 7};
  EXPECT_EQ(p.distance(at_mean), 0.0f);
  const std::int8_t off[4] = {6, 1, 3, 7};  // d = (1, 0, 0, 0)
  double want = 0;                          // Σᵢ uᵢ₀²/λᵢ + (1 − Σᵢ uᵢ₀²)/σ²
  double explained = 0;
  for (int i = 0; i < 2; ++i) {
    const double u0 = p.components()[i * 4];
    want += u0 * u0 * p.precisions()[i];
    explained += u0 * u0;
  }
  want += (1 - explained) * p.header().residual_precision;
  EXPECT_TRUE(near_relative(p.distance(off), want, 1e-5)) << p.distance(off) << " vs " << want;
}

// ================================ host: the fit =============================================

TEST(ProfileFit, MatchesPlainLoopLedoitWolf) {
  constexpr std::uint32_t d = 12;
  Machine m(d, 3, 101);
  const std::vector<ClipEmbeddings> clips = m.clips(6, 15);
  const FitResult r = fit_profile(clips, d, options());
  const LedoitWolf lw = plain_ledoit_wolf(dequantize(clips, d, kScale, kZeroPoint));
  ASSERT_GT(lw.shrinkage, 0.001);  // the test means something only if shrinkage does
  ASSERT_LT(lw.shrinkage, 0.999);
  EXPECT_NEAR(r.header.shrinkage, lw.shrinkage, 1e-6);
  EXPECT_TRUE(r.warning.empty()) << r.warning;

  const Profile p = load_ok(r.bytes);
  for (std::uint32_t j = 0; j < d; ++j) EXPECT_NEAR(p.mean()[j], lw.mean[j], 1e-6 * std::abs(lw.mean[j]));
  const Eigen::MatrixXd sigma = covariance_of(p);
  const double largest = lw.covariance.cwiseAbs().maxCoeff();
  EXPECT_LT((sigma - lw.covariance).cwiseAbs().maxCoeff(), 1e-5 * largest);

  // Orthonormal rows, eigenvalues descending.
  for (std::uint32_t a = 0; a < d; ++a) {
    for (std::uint32_t b = 0; b < d; ++b) {
      double dot = 0;
      for (std::uint32_t j = 0; j < d; ++j) dot += double(p.components()[a * d + j]) * p.components()[b * d + j];
      EXPECT_NEAR(dot, a == b ? 1.0 : 0.0, 1e-5) << a << "·" << b;
    }
    if (a > 0) {
      EXPECT_GE(p.precisions()[a], p.precisions()[a - 1]);
    }
  }
}

TEST(ProfileFit, WritesTheOptionsAndCountsIntoTheHeader) {
  constexpr std::uint32_t d = 10;
  Machine m(d, 2, 102);
  const std::vector<ClipEmbeddings> clips = m.clips(4, 9);
  const FitOptions o = options(3, 0.8);
  const FitResult r = fit_profile(clips, d, o);
  const Profile p = load_ok(r.bytes);
  ASSERT_EQ(r.bytes.size(), profile_file_bytes(d, 3));
  for (const ProfileHeader* h : {&r.header, &p.header()}) {
    EXPECT_EQ(0, std::memcmp(h->model_sha1, o.model_sha1.data(), 20));
    EXPECT_EQ(h->framing, Framing::kKit);
    EXPECT_EQ(h->resize, Resize::kDecimate);
    EXPECT_EQ(h->aggregate, ProfileAggregate::kMeanWindowDistance);
    EXPECT_EQ(h->embedding_size, d);
    EXPECT_EQ(h->rank, 3u);
    EXPECT_EQ(h->clips, 4u);
    EXPECT_EQ(h->windows, 36u);
    EXPECT_EQ(h->threshold_quantile, 0.8f);
    EXPECT_GT(h->residual_precision, 0.0f);
    EXPECT_EQ(h->embedding_scale, kScale);
    EXPECT_EQ(h->embedding_zero_point, kZeroPoint);
    EXPECT_STREQ(h->name, "slider_id_00");
  }
  EXPECT_EQ(r.header.threshold, p.header().threshold);
  EXPECT_EQ(r.header.shrinkage, p.header().shrinkage);
  EXPECT_EQ(r.header.residual_precision, p.header().residual_precision);
  EXPECT_EQ(fit_profile(clips, d, options(0)).header.rank, d);  // 0 = full
}

// Four windows (±2, 0), (0, ±1) by hand (scale 1, zero point 0): S = diag(2, 1/2), μ = 5/4,
// Σ‖x‖⁴ = 34, ‖S‖²_F = 17/4, so β = (34/4 − 17/4)/(2·4) = 17/32, δ = ‖S − μI‖²_F/2 = 9/16,
// shrinkage = 17/18 and Σ = diag(2, 1/2)/18 + (17/18)(5/4) I = diag(93/72, 87/72).
TEST(ProfileFit, HandDerivedTinyCase) {
  const std::vector<ClipEmbeddings> clips = {{"a", {2, 0, -2, 0}}, {"b", {0, 1, 0, -1}}};
  FitOptions o = options();
  o.embedding_scale = 1.0f;
  o.embedding_zero_point = 0;
  const LedoitWolf lw = plain_ledoit_wolf(dequantize(clips, 2, 1.0, 0));
  EXPECT_NEAR(lw.shrinkage, 17.0 / 18.0, 1e-12);  // the reference agrees with the hand
  EXPECT_NEAR(lw.covariance(0, 0), 93.0 / 72.0, 1e-12);
  EXPECT_NEAR(lw.covariance(1, 1), 87.0 / 72.0, 1e-12);

  const FitResult r = fit_profile(clips, 2, o);
  const Profile p = load_ok(r.bytes);
  EXPECT_FLOAT_EQ(p.header().shrinkage, 17.0f / 18.0f);
  EXPECT_EQ(p.mean()[0], 0.0f);
  EXPECT_EQ(p.mean()[1], 0.0f);
  EXPECT_FLOAT_EQ(p.precisions()[0], 72.0f / 93.0f);
  EXPECT_FLOAT_EQ(p.precisions()[1], 72.0f / 87.0f);
  EXPECT_NEAR(std::abs(p.components()[0]), 1.0f, 1e-6);  // axis 0 = ±e₁
  EXPECT_NEAR(p.components()[1], 0.0f, 1e-6);
  EXPECT_NEAR(std::abs(p.components()[3]), 1.0f, 1e-6);  // axis 1 = ±e₂
  const std::int8_t x[2] = {2, 0};
  EXPECT_FLOAT_EQ(p.distance(x), 4.0f * 72.0f / 93.0f);
}

// D = 1: δ = 0 (S is already μI), so no shrinkage; the distance is d²/variance (biased).
TEST(ProfileFit, OneDimension) {
  const std::vector<ClipEmbeddings> clips = {{"a", {1, 3}}, {"b", {5, 7, 9}}};  // mean 5, variance 40/5
  FitOptions o = options();
  o.embedding_scale = 1.0f;
  o.embedding_zero_point = 0;
  const FitResult r = fit_profile(clips, 1, o);
  const Profile p = load_ok(r.bytes);
  EXPECT_EQ(p.header().shrinkage, 0.0f);
  EXPECT_EQ(p.mean()[0], 5.0f);
  EXPECT_FLOAT_EQ(p.precisions()[0], 1.0f / 8.0f);
  const std::int8_t x = 9;
  EXPECT_FLOAT_EQ(p.distance(&x), 2.0f);
  // a under b alone (mean 7, variance 8/3): (6² + 4²)/2 · 3/8; b under a (mean 2, variance 1).
  EXPECT_NEAR(r.loo_scores[0], (36.0 + 16.0) / 2.0 * 3.0 / 8.0, 1e-5);
  EXPECT_NEAR(r.loo_scores[1], (9.0 + 25.0 + 49.0) / 3.0, 1e-5);
}

// The top-k axes of a compact profile are eigenpairs of the Ledoit–Wolf covariance computed here,
// the largest ones, and the residual variance is the mean of the rest (so traces agree).
TEST(ProfileFit, CompactRankKeepsTheTopEigenpairs) {
  constexpr std::uint32_t d = 12, k = 4;
  Machine m(d, 5, 103);
  const std::vector<ClipEmbeddings> clips = m.clips(5, 20);
  const FitResult r = fit_profile(clips, d, options(k));
  const Profile p = load_ok(r.bytes);
  const Eigen::MatrixXd sigma = plain_ledoit_wolf(dequantize(clips, d, kScale, kZeroPoint)).covariance;
  const double norm = sigma.norm();
  Eigen::MatrixXd u(d, k);
  double kept = 0;
  for (std::uint32_t i = 0; i < k; ++i) {
    for (std::uint32_t j = 0; j < d; ++j) u(j, i) = p.components()[i * d + j];
    const double lambda = 1.0 / p.precisions()[i];
    EXPECT_LT((sigma * u.col(i) - lambda * u.col(i)).norm(), 2e-6 * norm) << "axis " << i;
    kept += lambda;
  }
  EXPECT_TRUE(near_relative(kept + (d - k) / double(p.header().residual_precision), sigma.trace(), 1e-5));
  // The largest eigenvalue left outside the kept axes (power iteration on PΣP) is below λₖ.
  const Eigen::MatrixXd projector = Eigen::MatrixXd::Identity(d, d) - u * u.transpose();
  const Eigen::MatrixXd rest = projector * sigma * projector;
  Eigen::VectorXd v = Eigen::VectorXd::Ones(d);
  for (int it = 0; it < 3000; ++it) v = (rest * v).normalized();
  EXPECT_LE(v.dot(rest * v), (1.0 / p.precisions()[k - 1]) * (1 + 1e-5));
  EXPECT_GT(v.dot(rest * v), 0.1 / p.precisions()[k - 1]);  // the iteration found something

  // And the distances are the PPCA form of that covariance.
  for (const ClipEmbeddings& c : clips)
    for (std::size_t w = 0; w < 3; ++w) {
      const std::int8_t* e = c.windows.data() + w * d;
      const double want = mahalanobis(ppca_covariance_of(p), mean_of(p), dequantized(p, e));
      EXPECT_TRUE(near_relative(p.distance(e), want, 1e-4)) << p.distance(e) << " vs " << want;
    }
}

TEST(ProfileFit, FullRankDistanceIsMahalanobisUnderLedoitWolf) {
  constexpr std::uint32_t d = 16;
  Machine m(d, 4, 104);
  const std::vector<ClipEmbeddings> clips = m.clips(5, 12);
  const FitResult r = fit_profile(clips, d, options());
  const Profile p = load_ok(r.bytes);  // a view: r must outlive it
  const LedoitWolf lw = plain_ledoit_wolf(dequantize(clips, d, kScale, kZeroPoint));
  const ClipEmbeddings test = m.clip("new", 5), anomaly = m.clip("anomaly", 5, 12.0);
  for (const ClipEmbeddings* c : {&test, &anomaly})
    for (std::size_t w = 0; w < 5; ++w) {
      const std::int8_t* e = c->windows.data() + w * d;
      std::vector<double> x(d);
      for (std::uint32_t j = 0; j < d; ++j) x[j] = double(kScale) * (e[j] - kZeroPoint);
      const double want = mahalanobis(lw.covariance, lw.mean, x);
      EXPECT_TRUE(near_relative(p.distance(e), want, 1e-4)) << p.distance(e) << " vs " << want;
    }
}

// Leave-one-clip-out by hand: Ledoit–Wolf on the other clips here, mean Mahalanobis of the clip.
TEST(ProfileFit, LeaveOneOutScoresEqualRefittingByHand) {
  constexpr std::uint32_t d = 8;
  Machine m(d, 2, 105);
  std::vector<ClipEmbeddings> clips = m.clips(5, 10);
  clips[2] = m.clip("short", 3);  // clips need not have the same length
  const FitResult r = fit_profile(clips, d, options());
  ASSERT_EQ(r.loo_scores.size(), clips.size());
  for (std::size_t i = 0; i < clips.size(); ++i) {
    std::vector<ClipEmbeddings> others = clips;
    others.erase(others.begin() + i);
    const LedoitWolf lw = plain_ledoit_wolf(dequantize(others, d, kScale, kZeroPoint));
    double sum = 0;
    const Rows held_out = dequantize({clips[i]}, d, kScale, kZeroPoint);
    for (const auto& x : held_out) sum += mahalanobis(lw.covariance, lw.mean, x);
    EXPECT_TRUE(near_relative(r.loo_scores[i], sum / held_out.size(), 1e-4))
        << "clip " << i << ": " << r.loo_scores[i] << " vs " << sum / held_out.size();
  }
}

// The default aggregate: a held-out clip's score is the Mahalanobis distance of its mean
// embedding under Ledoit–Wolf on the other clips, and clip_scores() agrees with it.
TEST(ProfileFit, ClipMeanEmbeddingAggregateLeaveOneOutByHand) {
  constexpr std::uint32_t d = 8;
  Machine m(d, 2, 115);
  const std::vector<ClipEmbeddings> clips = m.clips(5, 10);
  FitOptions o = options();
  o.aggregate = ProfileAggregate::kClipMeanEmbedding;
  const FitResult r = fit_profile(clips, d, o);
  EXPECT_EQ(r.header.aggregate, ProfileAggregate::kClipMeanEmbedding);
  ASSERT_EQ(r.loo_scores.size(), clips.size());
  for (std::size_t i = 0; i < clips.size(); ++i) {
    std::vector<ClipEmbeddings> others = clips;
    others.erase(others.begin() + i);
    const LedoitWolf lw = plain_ledoit_wolf(dequantize(others, d, kScale, kZeroPoint));
    const Rows held_out = dequantize({clips[i]}, d, kScale, kZeroPoint);
    std::vector<double> mean(d, 0.0);
    for (const auto& x : held_out)
      for (std::uint32_t j = 0; j < d; ++j) mean[j] += x[j] / static_cast<double>(held_out.size());
    const double want = mahalanobis(lw.covariance, lw.mean, mean);
    EXPECT_TRUE(near_relative(r.loo_scores[i], want, 1e-4))
        << "clip " << i << ": " << r.loo_scores[i] << " vs " << want;
  }
  const Profile p = load_ok(r.bytes);
  const std::vector<double> scores = clip_scores(p, clips);
  const LedoitWolf all = plain_ledoit_wolf(dequantize(clips, d, kScale, kZeroPoint));
  const Rows first = dequantize({clips[0]}, d, kScale, kZeroPoint);
  std::vector<double> mean(d, 0.0);
  for (const auto& x : first)
    for (std::uint32_t j = 0; j < d; ++j) mean[j] += x[j] / static_cast<double>(first.size());
  EXPECT_TRUE(near_relative(scores[0], mahalanobis(all.covariance, all.mean, mean), 1e-4));
}

// The same for a compact rank, against the library's own fit of the N − 1 clips.
TEST(ProfileFit, CompactLeaveOneOutScoresEqualFittingWithoutTheClip) {
  constexpr std::uint32_t d = 10, k = 3;
  Machine m(d, 3, 106);
  const std::vector<ClipEmbeddings> clips = m.clips(4, 12);
  const FitResult r = fit_profile(clips, d, options(k));
  for (std::size_t i = 0; i < clips.size(); ++i) {
    std::vector<ClipEmbeddings> others = clips;
    others.erase(others.begin() + i);
    const FitResult without = fit_profile(others, d, options(k));
    const double want = clip_scores(load_ok(without.bytes), {clips[i]})[0];
    EXPECT_TRUE(near_relative(r.loo_scores[i], want, 1e-5))
        << "clip " << i << ": " << r.loo_scores[i] << " vs " << want;
  }
}

TEST(ProfileFit, ThresholdIsNumpyLinearQuantileOfLeaveOneOutScores) {
  // The reference against numpy itself: np.quantile(x, q) for these inputs.
  EXPECT_DOUBLE_EQ(numpy_quantile({1, 2, 3, 4, 10}, 0.95), 8.8);
  EXPECT_DOUBLE_EQ(numpy_quantile({3, 1, 2}, 0.5), 2.0);
  EXPECT_DOUBLE_EQ(numpy_quantile({1, 2, 3, 4}, 0.9), 3.7);
  EXPECT_DOUBLE_EQ(numpy_quantile({5, 1}, 1.0), 5.0);

  constexpr std::uint32_t d = 8;
  Machine m(d, 2, 107);
  const std::vector<ClipEmbeddings> clips = m.clips(7, 6);
  std::vector<double> first;
  for (double q : {0.95, 0.5, 0.9, 1.0, 0.1}) {
    const FitResult r = fit_profile(clips, d, options(0, q));
    if (first.empty()) first = r.loo_scores;
    EXPECT_EQ(r.loo_scores, first);  // the quantile picks from the scores, it does not change them
    EXPECT_EQ(r.header.threshold, static_cast<float>(numpy_quantile(r.loo_scores, q))) << "q " << q;
    EXPECT_EQ(r.header.threshold_quantile, static_cast<float>(q));
  }
  EXPECT_EQ(fit_profile(clips, d, options(0, 1.0)).header.threshold,
            static_cast<float>(*std::max_element(first.begin(), first.end())));
}

TEST(ProfileFit, AnOutlierClipScoresFarAboveHeldOutNormals) {
  constexpr std::uint32_t d = 16;
  Machine m(d, 3, 108);
  const std::vector<ClipEmbeddings> train = m.clips(10, 10);
  const FitResult r = fit_profile(train, d, options(0, 0.95));
  const Profile p = load_ok(r.bytes);
  std::vector<ClipEmbeddings> test = m.clips(6, 10, "heldout_");
  test.push_back(m.clip("anomaly", 10, 10.0));  // + 0.5 in a quarter of the channels
  const std::vector<double> s = clip_scores(p, test);
  const double worst_normal = *std::max_element(s.begin(), s.end() - 1);
  EXPECT_GT(s.back(), r.header.threshold);
  EXPECT_GT(s.back(), 3 * worst_normal) << "anomaly " << s.back() << ", held-out normals up to " << worst_normal;
  int below = 0;
  for (std::size_t i = 0; i + 1 < s.size(); ++i) below += s[i] <= r.header.threshold;
  EXPECT_GE(below, 4) << "held-out normals at or below the threshold " << r.header.threshold;
  // A compact profile separates them too.
  const FitResult compact = fit_profile(train, d, options(4));
  const Profile compact_profile = load_ok(compact.bytes);
  const std::vector<double> c = clip_scores(compact_profile, test);
  EXPECT_GT(c.back(), 3 * *std::max_element(c.begin(), c.end() - 1));
}

TEST(ProfileFit, ClipScoresAreMeanWindowDistances) {
  constexpr std::uint32_t d = 6;
  Machine m(d, 2, 109);
  const std::vector<ClipEmbeddings> clips = m.clips(3, 7);
  const FitResult r = fit_profile(clips, d, options());
  const Profile p = load_ok(r.bytes);
  const std::vector<double> s = clip_scores(p, clips);
  ASSERT_EQ(s.size(), 3u);
  for (std::size_t c = 0; c < 3; ++c) {
    double sum = 0;
    for (std::size_t w = 0; w < 7; ++w) sum += p.distance(clips[c].windows.data() + w * d);
    EXPECT_DOUBLE_EQ(s[c], sum / 7);
  }
  EXPECT_THROW(clip_scores(p, {{"empty", {}}}), std::invalid_argument);
  EXPECT_THROW(clip_scores(p, {{"odd", std::vector<std::int8_t>(7)}}), std::invalid_argument);
}

TEST(ProfileFit, FewerWindowsThanDimensionsWarnsNamingTheShrinkage) {
  constexpr std::uint32_t d = 32;
  Machine m(d, 3, 110);
  const std::vector<ClipEmbeddings> clips = m.clips(3, 4);
  const FitResult r = fit_profile(clips, d, options());
  EXPECT_NE(r.warning.find("only 12 windows for 32 embedding dimensions"), std::string::npos) << r.warning;
  char shrinkage[32];
  std::snprintf(shrinkage, sizeof shrinkage, "shrinkage %.6g", r.header.shrinkage);
  EXPECT_NE(r.warning.find(shrinkage), std::string::npos) << r.warning;
  EXPECT_GT(r.header.shrinkage, 0.0f);
  EXPECT_EQ(r.warning.find('\n'), std::string::npos);
  EXPECT_NEAR(r.header.shrinkage, plain_ledoit_wolf(dequantize(clips, d, kScale, kZeroPoint)).shrinkage, 1e-6);
  load_ok(r.bytes);
}

// The real embedding size: 276 (ad_medium), full and rank 32, from few windows.
TEST(ProfileFit, RealEmbeddingSizeFullAndCompact) {
  constexpr std::uint32_t d = 276;
  Machine m(d, 8, 111);
  const std::vector<ClipEmbeddings> clips = m.clips(4, 20);
  const FitResult full = fit_profile(clips, d, options());
  const FitResult compact = fit_profile(clips, d, options(32));
  EXPECT_EQ(full.bytes.size(), 307040u);
  EXPECT_EQ(compact.bytes.size(), 36688u);
  EXPECT_FALSE(full.warning.empty());
  const Profile p = load_ok(compact.bytes);
  EXPECT_EQ(p.header().rank, 32u);
  EXPECT_EQ(p.header().windows, 80u);
  const LedoitWolf lw = plain_ledoit_wolf(dequantize(clips, d, kScale, kZeroPoint));
  EXPECT_NEAR(full.header.shrinkage, lw.shrinkage, 1e-6);
  EXPECT_EQ(full.header.shrinkage, compact.header.shrinkage);
  for (double s : compact.loo_scores) EXPECT_TRUE(std::isfinite(s));
}

std::string fit_error(const std::vector<ClipEmbeddings>& clips, std::uint32_t d, const FitOptions& o) {
  try {
    fit_profile(clips, d, o);
  } catch (const std::invalid_argument& e) {
    return std::string("invalid_argument: ") + e.what();
  } catch (const std::runtime_error& e) {
    return std::string("runtime_error: ") + e.what();
  }
  return "(fitted)";
}

TEST(ProfileFit, ErrorsNameTheProblem) {
  constexpr std::uint32_t d = 4;
  Machine m(d, 1, 112);
  const std::vector<ClipEmbeddings> two = m.clips(2, 5);
  EXPECT_EQ(fit_error(two, d, options()), "(fitted)");
  EXPECT_EQ(fit_error({two[0]}, d, options()),
            "invalid_argument: need at least 2 normal clips to fit and calibrate a profile, got 1");
  EXPECT_EQ(fit_error({}, d, options()),
            "invalid_argument: need at least 2 normal clips to fit and calibrate a profile, got 0");
  EXPECT_EQ(fit_error({two[0], {"silent", {}}}, d, options()), "invalid_argument: clip 'silent' has no windows");
  std::vector<ClipEmbeddings> bad = two;
  bad[1].windows.pop_back();
  EXPECT_EQ(fit_error(bad, d, options()),
            "invalid_argument: clip 'normal_1' has 19 embedding values, not a multiple of the embedding size 4");
  EXPECT_NE(fit_error(two, 3, options()).find("not a multiple of the embedding size 3"), std::string::npos);
  for (const std::string& name : {std::string(""), std::string("a/b"), std::string(".."), std::string(32, 'x'),
                                  std::string("a\0b", 3), std::string("id 00")}) {
    FitOptions o = options();
    o.name = name;
    EXPECT_NE(fit_error(two, d, o).find("invalid_argument: machine name"), std::string::npos) << "'" << name << "'";
  }
  EXPECT_NE(fit_error(two, d, options(5)).find("rank 5 is above the embedding size 4"), std::string::npos);
  for (double q : {0.0, -0.5, 1.5, std::nan("")})
    EXPECT_NE(fit_error(two, d, options(0, q)).find("threshold quantile"), std::string::npos) << q;
  FitOptions o = options();
  o.embedding_scale = 0;
  EXPECT_NE(fit_error(two, d, o).find("embedding scale"), std::string::npos);
  o.embedding_scale = std::numeric_limits<float>::infinity();
  EXPECT_NE(fit_error(two, d, o).find("embedding scale"), std::string::npos);
  o = options();
  o.embedding_zero_point = 128;
  EXPECT_NE(fit_error(two, d, o).find("zero point 128 is not int8"), std::string::npos);
  EXPECT_NE(fit_error(two, 0, options()).find("embedding size 0"), std::string::npos);
}

TEST(ProfileFit, WindowsThatDoNotVaryAreRefused) {
  const std::vector<ClipEmbeddings> same = {{"a", {5, 5, 5, 5, 5, 5}}, {"b", {5, 5, 5}}};
  EXPECT_NE(fit_error(same, 3, options()).find("runtime_error: the windows do not vary"), std::string::npos)
      << fit_error(same, 3, options());
}

// NaN or Inf never reaches a profile: scales whose squares leave float's range are refused.
TEST(ProfileFit, NonFiniteResultsAreRefused) {
  constexpr std::uint32_t d = 6;
  Machine m(d, 2, 113);
  const std::vector<ClipEmbeddings> clips = m.clips(3, 8);
  for (float scale : {1e-30f, 1e30f}) {
    FitOptions o = options();
    o.embedding_scale = scale;
    EXPECT_NE(fit_error(clips, d, o).find("runtime_error: "), std::string::npos)
        << scale << ": " << fit_error(clips, d, o);
  }
}

}  // namespace
}  // namespace micronet_ad
