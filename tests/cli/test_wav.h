// Test audio made on the spot: a 16-bit mono PCM WAV whose header can say anything.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>

#include "support/cli.h"

namespace micronet_ad::test {

// A 44-byte header declaring `rate` Hz, then `data_bytes` bytes of noise, in temp_dir()/name.
inline std::string write_wav(const std::string& name, std::uint32_t rate, std::uint32_t data_bytes) {
  const std::string path = temp_dir() + "/" + name;
  std::string b = "RIFF";
  auto put = [&b](std::uint32_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) b += static_cast<char>((v >> (8 * i)) & 0xff);
  };
  put(36 + data_bytes, 4);
  b += "WAVEfmt ";
  put(16, 4);
  put(1, 2);  // PCM
  put(1, 2);  // mono
  put(rate, 4);
  put(rate * 2, 4);
  put(2, 2);
  put(16, 2);
  b += "data";
  put(data_bytes, 4);
  std::uint32_t state = 1;
  for (std::uint32_t i = 0; i < data_bytes; ++i) b += static_cast<char>((state = state * 1664525u + 1013904223u) >> 24);
  std::ofstream(path, std::ios::binary) << b;
  return path;
}

}  // namespace micronet_ad::test
