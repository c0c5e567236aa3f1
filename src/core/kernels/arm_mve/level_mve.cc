// The mve level's row: Cortex-M55/M85 Helium kernels (kernels/arm_mve). Weights are read in
// place, nothing is packed and no scratch is used (the interpreter's memory is fixed).
#include "kernels/level.h"

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#include "kernels/arm_mve/mve.h"

namespace micronet_ad::kernels {
namespace {
bool cpu_supports() { return true; }  // compiled only for a CPU with the extension
}  // namespace
extern const KernelLevel kArmMveLevel = {KernelSet::kArmMve,
                                         cpu_supports,
                                         1,
                                         16,
                                         mve::kConvKernels,
                                         mve::kConvKernelCount,
                                         mve::kDepthwiseKernels,
                                         mve::kDepthwiseKernelCount,
                                         mve::kAveragePoolKernels,
                                         mve::kAveragePoolKernelCount};
}  // namespace micronet_ad::kernels
#endif
