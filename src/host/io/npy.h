// NumPy .npy files (format versions 1–3, little-endian, C order): parsed with validation, since
// users hand us files from other tools.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace micronet_ad::host {

struct NpyArray {
  std::string dtype;                // normalised: "i1", "u1", "i2", "i4", "f4", "f8"
  std::vector<std::int64_t> shape;  // empty for a scalar
  std::vector<std::uint8_t> data;   // raw little-endian elements
  std::int64_t elements() const;
};

// Throws std::runtime_error "<label>: <what is wrong>" for anything that is not a valid array.
NpyArray parse_npy(const std::uint8_t* bytes, std::size_t size, const std::string& label);
NpyArray read_npy(const std::string& path);

// dtype as above ("i1", "f4", ...).
std::vector<std::uint8_t> encode_npy(const std::string& dtype, const std::vector<std::int64_t>& shape, const void* data,
                                     std::size_t bytes);
void write_npy(const std::string& path, const std::string& dtype, const std::vector<std::int64_t>& shape,
               const void* data, std::size_t bytes);

std::string shape_string(const std::vector<std::int64_t>& shape);  // "[1,32,32,1]"

}  // namespace micronet_ad::host
