// The two AArch64 rows (kernels/arm_neon): `neon`, plain Armv8-A Advanced SIMD, which every
// AArch64 CPU has; and `neon_dotprod`, the same kernels with the 1x1 GEMM on SDOT (Armv8.2-A
// FEAT_DotProd: Cortex-A55/A75 and later, Neoverse; not Cortex-A53/A72). The 1x1 GEMM and the
// first convolution pack a little at init (one int32 per channel; int16 weights of the 3x3
// one-channel filter); the depthwise kernel reads weights in place. No scratch, no heap, no I/O.
#include "kernels/level.h"

#if defined(__aarch64__)
#include "kernels/arm_neon/neon.h"

#if defined(__linux__) && !defined(__ARM_FEATURE_DOTPROD)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)  // the Linux arm64 hwcap bit of FEAT_DotProd
#endif
#endif

namespace micronet_ad::kernels {
namespace {
bool neon_supported() { return true; }  // Advanced SIMD is part of every AArch64 CPU

// Built for a dotprod CPU (-march=armv8.2-a+dotprod or later): known at compile time. Otherwise
// Linux tells through the auxiliary vector; elsewhere the level is not offered.
bool dotprod_supported() {
#if defined(__ARM_FEATURE_DOTPROD)
  return true;
#elif defined(__linux__)
  return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#else
  return false;
#endif
}

const ConvKernel kNeonConv[] = {
    {"conv1x1_s8_neon_4x4", neon::accepts_conv1x1, neon::run_conv1x1, neon::conv1x1_packed_bytes, neon::pack_conv1x1,
     nullptr},
    {"conv3x3_in1_s8_neon", neon::accepts_conv3x3_in1, neon::run_conv3x3_in1, neon::conv3x3_in1_packed_bytes,
     neon::pack_conv3x3_in1, nullptr},
};
const ConvKernel kDotConv[] = {
    {"conv1x1_s8_neondot_8x8", neon::accepts_conv1x1, neon::run_conv1x1_dot, neon::conv1x1_dot_packed_bytes,
     neon::pack_conv1x1_dot, nullptr},
    {"conv3x3_in1_s8_neon", neon::accepts_conv3x3_in1, neon::run_conv3x3_in1, neon::conv3x3_in1_packed_bytes,
     neon::pack_conv3x3_in1, nullptr},
};
const ConvKernel kDepthwise[] = {
    {"dwconv3x3_s8_neon_8ch", neon::accepts_depthwise3x3, neon::run_depthwise3x3, nullptr, nullptr, nullptr},
};
// Average pooling stays on the reference kernel: one 4x4 window per channel per inference
// (~0.1% of ad_small's instructions on this level).
}  // namespace

extern const KernelLevel kArmNeonLevel = {KernelSet::kArmNeon,
                                          neon_supported,
                                          neon::kChannelPadding,
                                          16,
                                          kNeonConv,
                                          static_cast<int>(sizeof(kNeonConv) / sizeof(kNeonConv[0])),
                                          kDepthwise,
                                          static_cast<int>(sizeof(kDepthwise) / sizeof(kDepthwise[0])),
                                          nullptr,
                                          0};
extern const KernelLevel kArmNeonDotprodLevel = {KernelSet::kArmNeonDotprod,
                                                 dotprod_supported,
                                                 neon::kChannelPadding,
                                                 16,
                                                 kDotConv,
                                                 static_cast<int>(sizeof(kDotConv) / sizeof(kDotConv[0])),
                                                 kDepthwise,
                                                 static_cast<int>(sizeof(kDepthwise) / sizeof(kDepthwise[0])),
                                                 nullptr,
                                                 0};
}  // namespace micronet_ad::kernels
#endif  // __aarch64__
