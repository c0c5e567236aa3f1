// The AVX-VNNI GEMM (src/core/kernels/optimized/x86_avxvnni_gemm.inc) compiled for plain AVX2,
// with vpdpbusd replaced by an exact sequence (bytes split into even and odd, zero- and
// sign-extended, then vpmaddwd twice), so that the kernel sweep checks the level's packing, row
// terms, tiles and requantization on a CPU without AVX-VNNI. Only the instruction itself is left
// to the real level's sweep, on a CPU that has it.
#if defined(__x86_64__)
#include "avxvnni_emulated.h"

#include <immintrin.h>

namespace {

__attribute__((target("avx2"), always_inline)) inline __m256i dpbusd_emulated(__m256i acc, __m256i u8, __m256i s8) {
  const __m256i low = _mm256_set1_epi16(0x00FF);
  const __m256i u_even = _mm256_and_si256(u8, low), u_odd = _mm256_srli_epi16(u8, 8);
  const __m256i s_even = _mm256_srai_epi16(_mm256_slli_epi16(s8, 8), 8), s_odd = _mm256_srai_epi16(s8, 8);
  // u ≤ 255, |s| ≤ 128: each pair of products fits int32, and vpmaddwd does not saturate.
  return _mm256_add_epi32(acc, _mm256_add_epi32(_mm256_madd_epi16(u_even, s_even), _mm256_madd_epi16(u_odd, s_odd)));
}

}  // namespace

#define MNAD_VNNI_NS avxvnni_emulated
#define MNAD_VNNI_TARGET "avx2"
#define MNAD_VNNI_DOT(acc, u, s) dpbusd_emulated(acc, u, s)
#include "kernels/optimized/x86_avxvnni_gemm.inc"

namespace micronet_ad::test {
namespace {

namespace emu = kernels::opt::avxvnni_emulated;
bool avx2() { return __builtin_cpu_supports("avx2"); }

const kernels::ConvKernel kConv[] = {
    {"conv1x1_s8_avxvnni_emulated_6x16", emu::accepts_pointwise, emu::run_pointwise, emu::packed_bytes, emu::pack,
     emu::pointwise_scratch},
    {"conv_s8_avxvnni_emulated_im2col", emu::accepts_im2col, emu::run_im2col, emu::packed_bytes, emu::pack,
     emu::im2col_scratch},
};

}  // namespace

// Named after the level it stands in for; its row holds only the GEMM kernels, which are all
// that `avxvnni` does not share with `avx2`.
const kernels::KernelLevel kAvxVnniEmulatedLevel = {
    KernelSet::kAvxVnni, avx2, 16, 64, kConv, 2, nullptr, 0, nullptr, 0};

}  // namespace micronet_ad::test
#endif  // __x86_64__
