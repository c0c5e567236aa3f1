#include "host/io/file.h"

#include <sys/stat.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace micronet_ad::host {
namespace {
struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;
}  // namespace

std::vector<std::uint8_t> read_file(const std::string& path, std::size_t max_bytes) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    throw std::runtime_error(path + ": cannot open: " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) throw std::runtime_error(path + ": not a regular file");
  if (st.st_size == 0) throw std::runtime_error(path + ": file is empty");
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes) {
    throw std::runtime_error(path + ": file has " + std::to_string(st.st_size) + " bytes, more than the limit of " +
                             std::to_string(max_bytes));
  }
  File f(std::fopen(path.c_str(), "rb"));
  if (!f) throw std::runtime_error(path + ": cannot open: " + std::strerror(errno));
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(st.st_size));
  if (std::fread(bytes.data(), 1, bytes.size(), f.get()) != bytes.size()) {
    throw std::runtime_error(path + ": read error");
  }
  return bytes;
}

void write_file(const std::string& path, const void* data, std::size_t size) {
  File f(std::fopen(path.c_str(), "wb"));
  if (!f) throw std::runtime_error(path + ": cannot create: " + std::strerror(errno));
  if ((size > 0 && std::fwrite(data, 1, size, f.get()) != size) || std::fflush(f.get()) != 0) {
    throw std::runtime_error(path + ": write error");
  }
}

}  // namespace micronet_ad::host
