#include "micronet_ad/status.h"

#include <cstdarg>
#include <cstdio>

namespace micronet_ad {

Status Status::Error(const char* format, ...) {
  Status s;
  s.ok_ = false;
  std::va_list args;
  va_start(args, format);
  std::vsnprintf(s.message_, sizeof(s.message_), format, args);
  va_end(args);
  return s;
}

}  // namespace micronet_ad
