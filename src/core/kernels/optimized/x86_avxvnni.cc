// The `avxvnni` level's GEMM: x86_avxvnni_gemm.inc with the real VEX vpdpbusd. The level's row
// (x86_levels.cc) pairs it with the AVX2 3x3 and depthwise kernels, which AVX-VNNI does not change.
#if defined(__x86_64__)

#define MNAD_VNNI_NS avxvnni
#define MNAD_VNNI_TARGET "avx2,avxvnni"
#define MNAD_VNNI_DOT(acc, u, s) _mm256_dpbusd_avx_epi32(acc, u, s)
#include "kernels/optimized/x86_avxvnni_gemm.inc"

#include <cpuid.h>

namespace micronet_ad::kernels::opt {

// CPUID leaf 7 sub-leaf 1, EAX bit 4 (clang 14's __builtin_cpu_supports does not know "avxvnni");
// "avx2" also checks that the OS saves the ymm state.
bool avxvnni_supported() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__builtin_cpu_supports("avx2") || __get_cpuid_max(0, nullptr) < 7) return false;
  __cpuid_count(7, 1, eax, ebx, ecx, edx);
  return (eax >> 4) & 1;
}

}  // namespace micronet_ad::kernels::opt

#endif  // __x86_64__
