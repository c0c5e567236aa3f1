// micronet-ad: result type of every fallible core call.
// The core throws nothing and allocates nothing, so an error is a flag plus a fixed-size message.
#pragma once

#include <cstddef>

namespace micronet_ad {

class Status {
 public:
  static constexpr std::size_t kMaxMessage = 240;

  Status() = default;  // ok
  static Status Ok() { return Status(); }
  // printf-style message naming the thing that is wrong, e.g.
  // "operator 3 (DEPTHWISE_CONV_2D): weights tensor 11 has 647 bytes, expected 648".
  static Status Error(const char* format, ...)
#if defined(__GNUC__)
      __attribute__((format(printf, 1, 2)))
#endif
      ;

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const char* message() const { return ok_ ? "ok" : message_; }

 private:
  bool ok_ = true;
  char message_[kMaxMessage] = {0};
};

}  // namespace micronet_ad
