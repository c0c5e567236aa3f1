#include "host/io/sha1.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace micronet_ad::host {
namespace {

constexpr std::uint32_t rotl(std::uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

std::uint32_t load_be32(const std::uint8_t* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) |
         std::uint32_t(p[3]);
}

void store_be32(std::uint32_t v, std::uint8_t* p) {
  p[0] = std::uint8_t(v >> 24);
  p[1] = std::uint8_t(v >> 16);
  p[2] = std::uint8_t(v >> 8);
  p[3] = std::uint8_t(v);
}

// Round function and constant for step t (FIPS 180-4 §4.1.1, §4.2.1).
std::uint32_t round_function(int t, std::uint32_t b, std::uint32_t c, std::uint32_t d) {
  if (t < 20) return (b & c) | (~b & d);
  if (t < 40) return b ^ c ^ d;
  if (t < 60) return (b & c) | (b & d) | (c & d);
  return b ^ c ^ d;
}

std::uint32_t round_constant(int t) {
  if (t < 20) return 0x5a827999u;
  if (t < 40) return 0x6ed9eba1u;
  if (t < 60) return 0x8f1bbcdcu;
  return 0xca62c1d6u;
}

}  // namespace

Sha1::Sha1() : state_{0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u, 0xc3d2e1f0u} {}

void Sha1::update(const void* data, std::size_t size) {
  if (finished_) throw std::logic_error("Sha1::update after digest");
  const auto* bytes = static_cast<const std::uint8_t*>(data);
  total_bytes_ += size;
  while (size > 0) {
    std::size_t take = std::min(size, buffer_.size() - buffered_);
    std::memcpy(buffer_.data() + buffered_, bytes, take);
    buffered_ += take;
    bytes += take;
    size -= take;
    if (buffered_ == buffer_.size()) {
      process_block(buffer_.data());
      buffered_ = 0;
    }
  }
}

Sha1::Digest Sha1::digest() {
  if (finished_) throw std::logic_error("Sha1::digest called twice");
  const std::uint64_t bit_length = total_bytes_ * 8;
  // Padding: 0x80, zeros up to 56 mod 64, then the 64-bit big-endian message length.
  static const std::uint8_t kPad[64] = {0x80};
  std::size_t pad = (buffered_ < 56) ? 56 - buffered_ : 120 - buffered_;
  update(kPad, pad);
  std::uint8_t length[8];
  store_be32(std::uint32_t(bit_length >> 32), length);
  store_be32(std::uint32_t(bit_length), length + 4);
  update(length, 8);
  finished_ = true;
  Digest out;
  for (int i = 0; i < 5; ++i) store_be32(state_[i], out.data() + 4 * i);
  return out;
}

void Sha1::process_block(const std::uint8_t* block) {
  std::uint32_t w[80];
  for (int t = 0; t < 16; ++t) w[t] = load_be32(block + 4 * t);
  for (int t = 16; t < 80; ++t) w[t] = rotl(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
  std::uint32_t a = state_[0], b = state_[1], c = state_[2], d = state_[3], e = state_[4];
  for (int t = 0; t < 80; ++t) {
    std::uint32_t temp = rotl(a, 5) + round_function(t, b, c, d) + e + round_constant(t) + w[t];
    e = d;
    d = c;
    c = rotl(b, 30);
    b = a;
    a = temp;
  }
  state_[0] += a;
  state_[1] += b;
  state_[2] += c;
  state_[3] += d;
  state_[4] += e;
}

std::string to_hex(const Sha1::Digest& digest) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * digest.size());
  for (std::uint8_t byte : digest) {
    out.push_back(kHex[byte >> 4]);
    out.push_back(kHex[byte & 0xf]);
  }
  return out;
}

std::string sha1_hex(const void* data, std::size_t size) {
  Sha1 hasher;
  hasher.update(data, size);
  return to_hex(hasher.digest());
}

std::string sha1_hex(std::string_view text) { return sha1_hex(text.data(), text.size()); }

std::string sha1_file_hex(const std::string& path) {
  struct Closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, Closer> file(std::fopen(path.c_str(), "rb"));
  if (!file) throw std::runtime_error(path + ": cannot open: " + std::strerror(errno));
  // Streamed so that hashing a model never needs the whole file in memory.
  Sha1 hasher;
  std::uint8_t chunk[1 << 16];
  std::size_t got;
  while ((got = std::fread(chunk, 1, sizeof chunk, file.get())) > 0) hasher.update(chunk, got);
  if (std::ferror(file.get())) throw std::runtime_error(path + ": read error");
  return to_hex(hasher.digest());
}

bool is_sha1_hex(std::string_view text) {
  if (text.size() != 40) return false;
  for (char c : text) {
    bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex) return false;
  }
  return true;
}

}  // namespace micronet_ad::host
