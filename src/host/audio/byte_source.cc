#include "host/audio/byte_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace micronet_ad::host {
namespace {

// The position `offset` from `whence`, or -1 when it falls outside [0, size].
std::int64_t seek_target(std::int64_t offset, int whence, std::int64_t position, std::int64_t size) {
  const std::int64_t base = whence == SEEK_CUR ? position : whence == SEEK_END ? size : 0;
  if ((offset > 0 && base > size - offset) || base + offset < 0) return -1;  // no overflow either way
  return base + offset;
}

}  // namespace

std::int64_t MemoryBytes::read(void* out, std::int64_t count) {
  const std::int64_t n = std::max<std::int64_t>(0, std::min(count, size_ - position_));
  if (n > 0) std::memcpy(out, data_ + position_, static_cast<std::size_t>(n));
  position_ += n;
  return n;
}

std::int64_t MemoryBytes::seek(std::int64_t offset, int whence) {
  const std::int64_t target = seek_target(offset, whence, position_, size_);
  if (target >= 0) position_ = target;
  return target;
}

FileBytes::FileBytes(const std::string& path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd_ < 0 || ::fstat(fd_, &st) != 0) {
    const int error = errno;
    if (fd_ >= 0) ::close(fd_);
    throw std::runtime_error(path + ": cannot open: " + std::strerror(error));
  }
  size_ = st.st_size;
}

FileBytes::~FileBytes() { ::close(fd_); }

std::int64_t FileBytes::read(void* out, std::int64_t count) {
  std::int64_t done = 0;
  char* bytes = static_cast<char*>(out);
  while (done < count) {  // pread may return less than asked without being at the end
    const ssize_t n = ::pread(fd_, bytes + done, static_cast<std::size_t>(count - done), position_ + done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += n;
  }
  position_ += done;
  return done;
}

std::int64_t FileBytes::seek(std::int64_t offset, int whence) {
  const std::int64_t target = seek_target(offset, whence, position_, size_);
  if (target >= 0) position_ = target;
  return target;
}

}  // namespace micronet_ad::host
