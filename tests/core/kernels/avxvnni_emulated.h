// A test-only kernel level: the AVX-VNNI GEMM with vpdpbusd emulated on AVX2 (avxvnni_emulated.cc).
#pragma once

#include "kernels/level.h"

namespace micronet_ad::test {
#if defined(__x86_64__)
extern const kernels::KernelLevel kAvxVnniEmulatedLevel;
#endif
}  // namespace micronet_ad::test
