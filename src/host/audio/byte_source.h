// Random-access bytes for the audio decoders: a file on disk or a buffer in memory (an HTTP body),
// so every decoder reads both through the same code.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace micronet_ad::host {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to `count` bytes at the position; returns how many (0 at the end or on error).
  virtual std::int64_t read(void* out, std::int64_t count) = 0;
  // Moves to `offset` from SEEK_SET/SEEK_CUR/SEEK_END; returns the new position, or -1 (and stays)
  // when the target lies outside the bytes.
  virtual std::int64_t seek(std::int64_t offset, int whence) = 0;
  virtual std::int64_t tell() const = 0;
  virtual std::int64_t size() const = 0;
};

class MemoryBytes final : public ByteSource {
 public:
  MemoryBytes(const void* data, std::size_t size)
      : data_(static_cast<const unsigned char*>(data)), size_(static_cast<std::int64_t>(size)) {}
  std::int64_t read(void* out, std::int64_t count) override;
  std::int64_t seek(std::int64_t offset, int whence) override;
  std::int64_t tell() const override { return position_; }
  std::int64_t size() const override { return size_; }

 private:
  const unsigned char* data_;
  std::int64_t size_;
  std::int64_t position_ = 0;
};

// A regular file, opened read-only; throws std::runtime_error "<path>: cannot open: …".
class FileBytes final : public ByteSource {
 public:
  explicit FileBytes(const std::string& path);
  ~FileBytes() override;
  FileBytes(const FileBytes&) = delete;
  FileBytes& operator=(const FileBytes&) = delete;
  std::int64_t read(void* out, std::int64_t count) override;
  std::int64_t seek(std::int64_t offset, int whence) override;
  std::int64_t tell() const override { return position_; }
  std::int64_t size() const override { return size_; }

 private:
  int fd_ = -1;
  std::int64_t size_ = 0;
  std::int64_t position_ = 0;
};

}  // namespace micronet_ad::host
