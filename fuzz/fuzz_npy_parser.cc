// libFuzzer target: host::parse_npy on arbitrary bytes. It must either return an array whose
// data matches its dtype and shape, or throw std::runtime_error; anything else is a bug.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "host/io/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Exact-size copy so that AddressSanitizer sees reads past the end.
  std::unique_ptr<std::uint8_t[]> bytes(new std::uint8_t[size > 0 ? size : 1]);
  if (size > 0) std::memcpy(bytes.get(), data, size);
  try {
    const micronet_ad::host::NpyArray a = micronet_ad::host::parse_npy(bytes.get(), size, "fuzz.npy");
    const std::size_t element = a.dtype == "f8"                        ? 8
                                : (a.dtype == "i4" || a.dtype == "f4") ? 4
                                : a.dtype == "i2"                      ? 2
                                                                       : 1;
    if (a.elements() < 0 || a.data.size() != static_cast<std::size_t>(a.elements()) * element) std::abort();
  } catch (const std::runtime_error&) {
  }
  return 0;
}
