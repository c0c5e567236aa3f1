// Writes small valid machine profiles as seeds for fuzz_profile_loader, each twice: with mode
// byte 0 (bytes as they are) and 1 (the harness rewrites the CRC). Profiles of a few dimensions
// load and score in microseconds, so every mutant gets through quickly.
//   make_profile_seeds <directory>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "micronet_ad/profile.h"

namespace {

using micronet_ad::ProfileHeader;

// A profile with D dimensions and rank k, axis-aligned components (rows of the identity).
std::vector<std::uint8_t> profile(std::uint32_t d, std::uint32_t k, const char* name) {
  ProfileHeader h;
  h.framing = micronet_ad::Framing::kKit;
  h.embedding_size = d;
  h.rank = k;
  h.clips = 3;
  h.windows = 30;
  h.threshold = 4.5f;
  h.threshold_quantile = 0.95f;
  h.residual_precision = k < d ? 2.0f : 0.0f;
  h.shrinkage = 0.25f;
  h.embedding_scale = 0.05f;
  h.embedding_zero_point = -12;
  std::strcpy(h.name, name);
  for (int i = 0; i < 20; ++i) h.model_sha1[i] = static_cast<std::uint8_t>(i);
  std::vector<float> mean(d), precisions(k), components(static_cast<std::size_t>(k) * d, 0.0f);
  for (std::uint32_t j = 0; j < d; ++j) mean[j] = 0.1f * static_cast<float>(j) - 0.2f;
  for (std::uint32_t i = 0; i < k; ++i) {
    precisions[i] = 1.0f + static_cast<float>(i);
    components[static_cast<std::size_t>(i) * d + i] = 1.0f;
  }
  std::vector<std::uint8_t> bytes(micronet_ad::profile_file_bytes(d, k));
  const micronet_ad::Status s =
      micronet_ad::encode_profile(h, mean.data(), precisions.data(), components.data(), bytes.data(), bytes.size());
  if (!s) {
    std::fprintf(stderr, "make_profile_seeds: %s\n", s.message());
    return {};
  }
  return bytes;
}

bool write(const std::string& path, std::uint8_t mode, const std::vector<std::uint8_t>& bytes) {
  if (bytes.empty()) return false;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  const bool ok = std::fputc(mode, f) != EOF && std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  return std::fclose(f) == 0 && ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <directory>\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  struct Seed {
    const char* file;
    std::vector<std::uint8_t> bytes;
  };
  const Seed seeds[] = {
      {"full_d4", profile(4, 4, "fan_id_00")},
      {"compact_d8_k2", profile(8, 2, "slider.id-02")},
      {"d1", profile(1, 1, "x")},
  };
  bool ok = true;
  for (const Seed& s : seeds)
    for (std::uint8_t mode : {0, 1})
      ok = ok && write(dir + "/seed_" + s.file + "_mode" + std::to_string(mode) + ".prof", mode, s.bytes);
  if (!ok) {
    std::fprintf(stderr, "make_profile_seeds: cannot write into %s\n", dir.c_str());
    return 1;
  }
  return 0;
}
