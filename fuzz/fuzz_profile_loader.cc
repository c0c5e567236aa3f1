// libFuzzer target: Profile::load on arbitrary bytes, and for every profile that loads, distance()
// of a zero embedding. Anything the loader accepts must be safe to score.
//
// The first input byte picks the mode, the rest is the file:
//   bit 0 set    the harness writes the right CRC-32 into the file first. A random edit almost
//                never keeps the checksum, so without this mutants would stop at the CRC check
//                and never reach the field and array checks behind it.
//   bit 1 set    the file is placed at an odd address: load() must refuse it (not read it).
// make_profile_seeds writes the seed corpus (each valid profile in both CRC modes).
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "micronet_ad/profile.h"

namespace {

constexpr std::size_t kCrcOffset = 16;  // docs/profile-format.md

void check(bool condition) {
  if (!condition) std::abort();  // an invariant the loader promises does not hold
}

// CRC-32 (IEEE, reflected) over the file with its own field taken as zero, stored little-endian.
void write_crc(std::uint8_t* file, std::size_t size) {
  if (size < kCrcOffset + 4) return;
  std::memset(file + kCrcOffset, 0, 4);
  std::uint32_t crc = 0xFFFFFFFFu;
  for (std::size_t i = 0; i < size; ++i) {
    crc ^= file[i];
    for (int b = 0; b < 8; ++b) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  crc ^= 0xFFFFFFFFu;
  for (int i = 0; i < 4; ++i) file[kCrcOffset + i] = static_cast<std::uint8_t>(crc >> (8 * i));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace micronet_ad;
  if (size < 1) return 0;
  const std::uint8_t mode = data[0];
  const bool fix_crc = (mode & 1) != 0, unaligned = (mode & 2) != 0;
  ++data;
  --size;
  // An exact-size copy (operator new[] memory is 16-byte aligned), so AddressSanitizer flags any
  // read even one byte past the file.
  const std::size_t shift = unaligned ? 1 : 0;
  std::unique_ptr<std::uint8_t[]> storage(new std::uint8_t[size + shift]);
  std::uint8_t* file = storage.get() + shift;
  if (size > 0) std::memcpy(file, data, size);
  if (fix_crc) write_crc(file, size);

  Profile profile;
  const Status status = Profile::load(file, size, &profile);
  if (!status) {
    check(status.message() != nullptr && status.message()[0] != '\0');
    return 0;
  }
  check(!unaligned);
  const ProfileHeader& h = profile.header();
  check(h.embedding_size >= 1 && h.embedding_size <= static_cast<std::uint32_t>(kProfileMaxEmbedding));
  check(h.rank >= 1 && h.rank <= h.embedding_size);
  check(profile_file_bytes(h.embedding_size, h.rank) == size);
  check(reinterpret_cast<const std::uint8_t*>(profile.mean()) == file + kProfileHeaderBytes);

  // Reads all D·(k + 1) values; the result may overflow to inf for extreme (valid) files, which
  // is not a memory error and is left to the caller.
  std::vector<std::int8_t> zeros(h.embedding_size, 0);
  volatile float sink = profile.distance(zeros.data());
  (void)sink;
  return 0;
}
