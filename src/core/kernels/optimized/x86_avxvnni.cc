// The `avxvnni` level's GEMM: x86_avxvnni_gemm.inc with the real VEX vpdpbusd. The level's row
// (x86_levels.cc) pairs it with the AVX2 3x3 and depthwise kernels, which AVX-VNNI does not change.
#if defined(__x86_64__)

#define MNAD_VNNI_NS avxvnni
#define MNAD_VNNI_TARGET "avx2,avxvnni"
#define MNAD_VNNI_DOT(acc, u, s) _mm256_dpbusd_avx_epi32(acc, u, s)
#include "kernels/optimized/x86_avxvnni_gemm.inc"

namespace micronet_ad::kernels::opt {

bool avxvnni_supported() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("avxvnni"); }

}  // namespace micronet_ad::kernels::opt

#endif  // __x86_64__
