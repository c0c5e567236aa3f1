// Machine profiles: the file format (docs/profile-format.md) and the distance.
#include "micronet_ad/profile.h"

#include <cmath>
#include <cstring>

namespace micronet_ad {
namespace {

constexpr char kMagic[8] = {'M', 'N', 'A', 'D', 'P', 'R', 'O', 'F'};
constexpr std::size_t kCrcOffset = 16;

// Field offsets in the 128-byte header (docs/profile-format.md).
enum HeaderOffset : std::size_t {
  kOffVersion = 8,
  kOffFileBytes = 12,
  kOffCrc = kCrcOffset,
  kOffSha1 = 20,
  kOffFraming = 40,
  kOffResize = 41,
  kOffAggregate = 42,
  kOffReserved0 = 43,
  kOffEmbedding = 44,
  kOffRank = 48,
  kOffClips = 52,
  kOffWindows = 56,
  kOffThreshold = 60,
  kOffQuantile = 64,
  kOffResidual = 68,
  kOffShrinkage = 72,
  kOffScale = 76,
  kOffZeroPoint = 80,
  kOffName = 84,
  kOffReserved = 116,
};

std::uint32_t get_u32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
         static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}
void put_u32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
float get_f32(const std::uint8_t* p) {
  const std::uint32_t bits = get_u32(p);
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}
void put_f32(std::uint8_t* p, float f) {
  std::uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  put_u32(p, bits);
}

// CRC-32 (IEEE 802.3, reflected), bit by bit: a profile is checked once, at load.
std::uint32_t crc32_update(std::uint32_t crc, const std::uint8_t* data, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    crc ^= data[i];
    for (int b = 0; b < 8; ++b) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return crc;
}
// The file's CRC, computed with its own 4-byte field taken as zero.
std::uint32_t file_crc(const std::uint8_t* data, std::size_t size) {
  const std::uint8_t zeros[4] = {};
  std::uint32_t crc = crc32_update(0xFFFFFFFFu, data, kCrcOffset);
  crc = crc32_update(crc, zeros, 4);
  crc = crc32_update(crc, data + kCrcOffset + 4, size - kCrcOffset - 4);
  return crc ^ 0xFFFFFFFFu;
}

bool all_finite(const float* x, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    if (!std::isfinite(x[i])) return false;
  return true;
}

// The checks load() and encode_profile() share, on the header alone.
Status check_header(const ProfileHeader& h) {
  if (h.framing != Framing::kCentered && h.framing != Framing::kKit) return Status::Error("profile: unknown framing");
  if (h.resize != Resize::kAverage && h.resize != Resize::kDecimate) return Status::Error("profile: unknown resize");
  if (h.aggregate != ProfileAggregate::kMeanWindowDistance && h.aggregate != ProfileAggregate::kClipMeanEmbedding)
    return Status::Error("profile: unknown clip aggregate");
  if (h.embedding_size < 1 || h.embedding_size > static_cast<std::uint32_t>(kProfileMaxEmbedding))
    return Status::Error("profile: embedding size %u, expected 1..%d", static_cast<unsigned>(h.embedding_size),
                         kProfileMaxEmbedding);
  if (h.rank < 1 || h.rank > h.embedding_size)
    return Status::Error("profile: rank %u, expected 1..%u (the embedding size)", static_cast<unsigned>(h.rank),
                         static_cast<unsigned>(h.embedding_size));
  if (h.clips < 1 || h.windows < h.clips)
    return Status::Error("profile: %u clips and %u windows, expected at least one window per clip",
                         static_cast<unsigned>(h.clips), static_cast<unsigned>(h.windows));
  if (!std::isfinite(h.threshold)) return Status::Error("profile: threshold is not finite");
  if (!(h.threshold_quantile > 0.0f && h.threshold_quantile <= 1.0f))
    return Status::Error("profile: threshold quantile must be in (0, 1]");
  if (!std::isfinite(h.residual_precision) || h.residual_precision < 0.0f)
    return Status::Error("profile: residual precision must be finite and >= 0");
  if ((h.rank < h.embedding_size) != (h.residual_precision > 0.0f))
    return Status::Error("profile: a residual precision > 0 is required exactly when rank < embedding size");
  if (!(h.shrinkage >= 0.0f && h.shrinkage <= 1.0f)) return Status::Error("profile: shrinkage must be in [0, 1]");
  if (!(h.embedding_scale > 0.0f) || !std::isfinite(h.embedding_scale))
    return Status::Error("profile: embedding scale must be finite and > 0");
  if (h.embedding_zero_point < -128 || h.embedding_zero_point > 127)
    return Status::Error("profile: embedding zero point %d is not int8", static_cast<int>(h.embedding_zero_point));
  if (h.name[kProfileNameBytes] != '\0' || !is_valid_profile_name(h.name))
    return Status::Error("profile: machine name must be 1..%d characters of A-Z a-z 0-9 _ . -", kProfileNameBytes - 1);
  return Status::Ok();
}

Status check_arrays(std::uint32_t d, std::uint32_t k, const float* mean, const float* precisions,
                    const float* components) {
  if (!all_finite(mean, d)) return Status::Error("profile: mean has a NaN or infinite value");
  for (std::uint32_t i = 0; i < k; ++i) {
    if (!(precisions[i] > 0.0f) || !std::isfinite(precisions[i]))
      return Status::Error("profile: precision %u is not finite and > 0", static_cast<unsigned>(i));
  }
  if (!all_finite(components, static_cast<std::size_t>(k) * d))
    return Status::Error("profile: components have a NaN or infinite value");
  return Status::Ok();
}

}  // namespace

bool is_valid_profile_name(const char* name) {
  std::size_t n = 0;
  for (; name[n] != '\0'; ++n) {
    const char c = name[n];
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    if (!ok || n >= static_cast<std::size_t>(kProfileNameBytes - 1)) return false;
  }
  if (n == 0) return false;
  return std::strcmp(name, ".") != 0 && std::strcmp(name, "..") != 0;
}

std::size_t profile_file_bytes(std::uint32_t embedding_size, std::uint32_t rank) {
  const std::size_t d = embedding_size, k = rank;
  return kProfileHeaderBytes + sizeof(float) * (d + k + k * d);
}

Status encode_profile(const ProfileHeader& h, const float* mean, const float* precisions, const float* components,
                      std::uint8_t* out, std::size_t out_bytes) {
  if (Status s = check_header(h); !s) return s;
  const std::size_t size = profile_file_bytes(h.embedding_size, h.rank);
  if (out == nullptr || out_bytes < size) return Status::Error("profile: %zu bytes needed, %zu given", size, out_bytes);
  if (Status s = check_arrays(h.embedding_size, h.rank, mean, precisions, components); !s) return s;
  std::memset(out, 0, kProfileHeaderBytes);
  std::memcpy(out, kMagic, sizeof kMagic);
  put_u32(out + kOffVersion, kProfileVersion);
  put_u32(out + kOffFileBytes, static_cast<std::uint32_t>(size));
  std::memcpy(out + kOffSha1, h.model_sha1, sizeof h.model_sha1);
  out[kOffFraming] = static_cast<std::uint8_t>(h.framing);
  out[kOffResize] = static_cast<std::uint8_t>(h.resize);
  out[kOffAggregate] = static_cast<std::uint8_t>(h.aggregate);
  put_u32(out + kOffEmbedding, h.embedding_size);
  put_u32(out + kOffRank, h.rank);
  put_u32(out + kOffClips, h.clips);
  put_u32(out + kOffWindows, h.windows);
  put_f32(out + kOffThreshold, h.threshold);
  put_f32(out + kOffQuantile, h.threshold_quantile);
  put_f32(out + kOffResidual, h.residual_precision);
  put_f32(out + kOffShrinkage, h.shrinkage);
  put_f32(out + kOffScale, h.embedding_scale);
  put_u32(out + kOffZeroPoint, static_cast<std::uint32_t>(h.embedding_zero_point));
  std::memcpy(out + kOffName, h.name, std::strlen(h.name));
  std::uint8_t* p = out + kProfileHeaderBytes;
  const std::size_t d = h.embedding_size, k = h.rank;
  for (std::size_t i = 0; i < d; ++i, p += 4) put_f32(p, mean[i]);
  for (std::size_t i = 0; i < k; ++i, p += 4) put_f32(p, precisions[i]);
  for (std::size_t i = 0; i < k * d; ++i, p += 4) put_f32(p, components[i]);
  put_u32(out + kOffCrc, file_crc(out, size));
  return Status::Ok();
}

Status Profile::load(const std::uint8_t* data, std::size_t size, Profile* out) {
  if (data == nullptr || out == nullptr) return Status::Error("profile: no data");
  if (size < kProfileHeaderBytes || std::memcmp(data, kMagic, sizeof kMagic) != 0)
    return Status::Error("profile: not a micronet-ad profile (no MNADPROF header)");
  if (reinterpret_cast<std::uintptr_t>(data) % alignof(float) != 0)
    return Status::Error("profile: data must be 4-byte aligned");
  const std::uint32_t version = get_u32(data + kOffVersion);
  if (version != kProfileVersion)
    return Status::Error("profile: format version %u, this build reads version %u", static_cast<unsigned>(version),
                         static_cast<unsigned>(kProfileVersion));
  const std::uint32_t file_bytes = get_u32(data + kOffFileBytes);
  if (file_bytes != size)
    return Status::Error("profile: header says %u bytes, the file has %zu (truncated or padded)",
                         static_cast<unsigned>(file_bytes), size);
  ProfileHeader h;
  h.embedding_size = get_u32(data + kOffEmbedding);
  h.rank = get_u32(data + kOffRank);
  if (h.embedding_size < 1 || h.embedding_size > static_cast<std::uint32_t>(kProfileMaxEmbedding) || h.rank < 1 ||
      h.rank > h.embedding_size || profile_file_bytes(h.embedding_size, h.rank) != size)
    return Status::Error("profile: embedding size %u and rank %u do not match the file's %zu bytes",
                         static_cast<unsigned>(h.embedding_size), static_cast<unsigned>(h.rank), size);
  if (file_crc(data, size) != get_u32(data + kOffCrc))
    return Status::Error("profile: checksum mismatch (corrupt file)");
  bool reserved_zero = data[kOffReserved0] == 0;
  for (std::size_t i = kOffReserved; i < kProfileHeaderBytes; ++i) reserved_zero = reserved_zero && data[i] == 0;
  if (!reserved_zero) return Status::Error("profile: reserved header bytes are not zero");
  std::memcpy(h.model_sha1, data + kOffSha1, sizeof h.model_sha1);
  h.framing = static_cast<Framing>(data[kOffFraming]);
  h.resize = static_cast<Resize>(data[kOffResize]);
  h.aggregate = static_cast<ProfileAggregate>(data[kOffAggregate]);
  h.clips = get_u32(data + kOffClips);
  h.windows = get_u32(data + kOffWindows);
  h.threshold = get_f32(data + kOffThreshold);
  h.threshold_quantile = get_f32(data + kOffQuantile);
  h.residual_precision = get_f32(data + kOffResidual);
  h.shrinkage = get_f32(data + kOffShrinkage);
  h.embedding_scale = get_f32(data + kOffScale);
  h.embedding_zero_point = static_cast<std::int32_t>(get_u32(data + kOffZeroPoint));
  std::memcpy(h.name, data + kOffName, kProfileNameBytes);
  h.name[kProfileNameBytes] = '\0';
  for (int i = static_cast<int>(std::strlen(h.name)); i < kProfileNameBytes; ++i)
    if (h.name[i] != '\0') return Status::Error("profile: machine name is not NUL-padded");
  if (Status s = check_header(h); !s) return s;
  const float* arrays = reinterpret_cast<const float*>(data + kProfileHeaderBytes);
  const float* mean = arrays;
  const float* precisions = mean + h.embedding_size;
  const float* components = precisions + h.rank;
  if (Status s = check_arrays(h.embedding_size, h.rank, mean, precisions, components); !s) return s;
  out->header_ = h;
  out->mean_ = mean;
  out->precisions_ = precisions;
  out->components_ = components;
  return Status::Ok();
}

namespace {

// The distance (profile.h) of the embedding x with x[j] = value(j), dequantized.
template <class Value>
float distance_of(const ProfileHeader& h, const float* mean, const float* precisions, const float* components,
                  Value value) {
  const std::uint32_t d = h.embedding_size, k = h.rank;
  float norm2 = 0.0f;
  for (std::uint32_t j = 0; j < d; ++j) {
    const float dj = value(j) - mean[j];
    norm2 += dj * dj;
  }
  float weighted = 0.0f, explained = 0.0f;
  const float* u = components;
  for (std::uint32_t i = 0; i < k; ++i, u += d) {
    float p = 0.0f;
    for (std::uint32_t j = 0; j < d; ++j) p += u[j] * (value(j) - mean[j]);
    weighted += precisions[i] * p * p;
    explained += p * p;
  }
  const float residual = norm2 - explained;
  return weighted + (residual > 0.0f ? h.residual_precision * residual : 0.0f);
}

}  // namespace

float Profile::distance(const std::int8_t* embedding) const {
  const float scale = header_.embedding_scale;
  const std::int32_t zero_point = header_.embedding_zero_point;
  return distance_of(header_, mean_, precisions_, components_,
                     [&](std::uint32_t j) { return scale * static_cast<float>(embedding[j] - zero_point); });
}

float Profile::distance_of_sum(const std::int32_t* sums, std::int64_t count) const {
  const float scale = header_.embedding_scale;
  const float zero_point = static_cast<float>(header_.embedding_zero_point);
  const float inverse = 1.0f / static_cast<float>(count);
  return distance_of(header_, mean_, precisions_, components_,
                     [&](std::uint32_t j) { return scale * (static_cast<float>(sums[j]) * inverse - zero_point); });
}

}  // namespace micronet_ad
