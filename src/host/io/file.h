// Whole-file reading with a size limit, for untrusted inputs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace micronet_ad::host {

// Reads `path` into memory. Throws std::runtime_error naming the file when it cannot be opened,
// is not a regular file, is empty or exceeds `max_bytes`.
std::vector<std::uint8_t> read_file(const std::string& path, std::size_t max_bytes = std::size_t(1) << 30);
// Writes bytes to `path` (truncating); throws std::runtime_error naming the file on failure.
void write_file(const std::string& path, const void* data, std::size_t size);

}  // namespace micronet_ad::host
