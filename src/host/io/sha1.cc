#include "host/io/sha1.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include <nettle/sha1.h>

namespace micronet_ad::host {

static_assert(SHA1_DIGEST_SIZE == std::tuple_size_v<Sha1::Digest>);

Sha1::Sha1() : ctx_(std::make_unique<sha1_ctx>()) { sha1_init(ctx_.get()); }
Sha1::~Sha1() = default;
Sha1::Sha1(Sha1&&) noexcept = default;
Sha1& Sha1::operator=(Sha1&&) noexcept = default;

void Sha1::update(const void* data, std::size_t size) {
  if (finished_) throw std::logic_error("Sha1::update after digest");
  sha1_update(ctx_.get(), size, static_cast<const std::uint8_t*>(data));
}

Sha1::Digest Sha1::digest() {
  if (finished_) throw std::logic_error("Sha1::digest called twice");
  finished_ = true;
  Digest out;
  sha1_digest(ctx_.get(), out.size(), out.data());
  return out;
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
