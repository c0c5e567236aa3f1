// SHA-1 (FIPS 180-4), used to tie calibration files to the exact model file they were made
// with. Not for security: SHA-1 is only an identity check here, as in the models' SHA1SUMS.
// The hashing itself is nettle's (Debian nettle-dev); this header keeps nettle out of callers.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

struct sha1_ctx;  // nettle's state (<nettle/sha1.h>)

namespace micronet_ad::host {

// Incremental hasher: update() any number of times, then digest() once.
class Sha1 {
 public:
  using Digest = std::array<std::uint8_t, 20>;

  Sha1();
  ~Sha1();
  Sha1(Sha1&&) noexcept;
  Sha1& operator=(Sha1&&) noexcept;

  void update(const void* data, std::size_t size);
  void update(std::string_view text) { update(text.data(), text.size()); }
  // Pads and returns the digest; the hasher must not be updated afterwards.
  Digest digest();

 private:
  std::unique_ptr<sha1_ctx> ctx_;
  bool finished_ = false;
};

// Lowercase hexadecimal, 40 characters.
std::string to_hex(const Sha1::Digest& digest);
std::string sha1_hex(const void* data, std::size_t size);
std::string sha1_hex(std::string_view text);
// SHA-1 of a whole file; throws std::runtime_error naming the file when it cannot be read.
std::string sha1_file_hex(const std::string& path);
// True for exactly 40 hexadecimal digits (either case).
bool is_sha1_hex(std::string_view text);

}  // namespace micronet_ad::host
