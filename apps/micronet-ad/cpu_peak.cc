#include "cpu_peak.h"

#include <algorithm>
#include <chrono>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace micronet_ad::cli {
namespace {

constexpr int kSteps = 20000;  // of 12 instructions: ~1 ms
constexpr int kRuns = 20;

#if defined(__x86_64__)
// vpmaddwd: 16 int16 products summed in pairs into 8 int32 (the AVX2 GEMM's instruction).
__attribute__((target("avx2"))) void vpmaddwd_steps(int steps) {
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0,
          a10 = a0, a11 = a0;
  const __m256i x = _mm256_set1_epi32(0x00010002), w = _mm256_set1_epi32(0x00030004);
  for (int i = 0; i < steps; ++i)
    __asm__ volatile(
        "vpmaddwd %13, %12, %0\n\tvpmaddwd %13, %12, %1\n\tvpmaddwd %13, %12, %2\n\tvpmaddwd %13, %12, %3\n\t"
        "vpmaddwd %13, %12, %4\n\tvpmaddwd %13, %12, %5\n\tvpmaddwd %13, %12, %6\n\tvpmaddwd %13, %12, %7\n\t"
        "vpmaddwd %13, %12, %8\n\tvpmaddwd %13, %12, %9\n\tvpmaddwd %13, %12, %10\n\tvpmaddwd %13, %12, %11"
        : "+x"(a0), "+x"(a1), "+x"(a2), "+x"(a3), "+x"(a4), "+x"(a5), "+x"(a6), "+x"(a7), "+x"(a8), "+x"(a9), "+x"(a10),
          "+x"(a11)
        : "x"(x), "x"(w));
}

// vpdpbusd: 64 u8·s8 products summed in fours into 16 int32 (the AVX-512 VNNI GEMM's).
__attribute__((target("avx512f,avx512vnni"))) void vpdpbusd_steps(int steps) {
  __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0,
          a10 = a0, a11 = a0;
  const __m512i x = _mm512_set1_epi32(0x01020304), w = _mm512_set1_epi32(0x05060708);
  for (int i = 0; i < steps; ++i)
    __asm__ volatile(
        "vpdpbusd %13, %12, %0\n\tvpdpbusd %13, %12, %1\n\tvpdpbusd %13, %12, %2\n\tvpdpbusd %13, %12, %3\n\t"
        "vpdpbusd %13, %12, %4\n\tvpdpbusd %13, %12, %5\n\tvpdpbusd %13, %12, %6\n\tvpdpbusd %13, %12, %7\n\t"
        "vpdpbusd %13, %12, %8\n\tvpdpbusd %13, %12, %9\n\tvpdpbusd %13, %12, %10\n\tvpdpbusd %13, %12, %11"
        : "+v"(a0), "+v"(a1), "+v"(a2), "+v"(a3), "+v"(a4), "+v"(a5), "+v"(a6), "+v"(a7), "+v"(a8), "+v"(a9), "+v"(a10),
          "+v"(a11)
        : "v"(x), "v"(w));
}
#endif

}  // namespace

PeakLoop peak_loop(KernelSet set) {
  PeakLoop loop;
#if defined(__x86_64__)
  if (!Interpreter::kernel_set_supported(set)) return loop;
  if (set == KernelSet::kAvx512Vnni) loop = {"vpdpbusd zmm", 12.0 * 64, vpdpbusd_steps};
  if (set == KernelSet::kAvx2) loop = {"vpmaddwd ymm", 12.0 * 16, vpmaddwd_steps};
#else
  (void)set;
#endif
  return loop;
}

CpuPeak measure_cpu_peak(KernelSet set) {
  const PeakLoop loop = peak_loop(set);
  CpuPeak peak;
  if (loop.steps == nullptr) return peak;
  peak.instruction = loop.instruction;
  for (int run = 0; run < kRuns; ++run) {
    const auto t0 = std::chrono::steady_clock::now();
    loop.steps(kSteps);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (seconds > 0) peak.macs_per_second = std::max(peak.macs_per_second, loop.macs_per_step * kSteps / seconds);
  }
  return peak;
}

}  // namespace micronet_ad::cli
