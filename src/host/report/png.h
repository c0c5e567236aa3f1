// Small PNG and data-URI helpers for the self-contained HTML report (libpng does the encoding).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace micronet_ad::host {

using Rgb = std::array<std::uint8_t, 3>;

// A palette (indexed-colour) PNG: `pixels` holds width x height palette indices, row by row from
// the top; `palette` has 1..256 colours. Throws std::invalid_argument on inconsistent sizes and
// std::runtime_error when libpng fails.
std::vector<std::uint8_t> encode_indexed_png(int width, int height, const std::vector<std::uint8_t>& pixels,
                                             const std::vector<Rgb>& palette);

// RFC 4648 base64 with padding.
std::string base64_encode(const std::uint8_t* data, std::size_t size);
inline std::string base64_encode(const std::vector<std::uint8_t>& bytes) {
  return base64_encode(bytes.data(), bytes.size());
}

// 256 colours from dark (index 0) to bright (255), perceptually ordered (after matplotlib's
// "magma"), for spectrograms.
std::vector<Rgb> magma_palette();

}  // namespace micronet_ad::host
