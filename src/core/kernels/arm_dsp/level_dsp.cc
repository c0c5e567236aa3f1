// The dsp level's row: Cortex-M4/M7/M33/M55 DSP-extension kernels (kernels/arm_dsp). No packed
// weights and no scratch: weights are read in place, so the interpreter's memory stays the
// reference kernels' own.
#include "kernels/level.h"

#if defined(__ARM_FEATURE_DSP)
#include "kernels/arm_dsp/dsp.h"

namespace micronet_ad::kernels {
namespace {
bool cpu_supports() { return true; }  // compiled only for a CPU with the extension

const ConvKernel kConv[] = {
    {"conv1x1_s8_dsp_2x2", dsp::accepts_conv1x1, dsp::run_conv1x1, nullptr, nullptr, nullptr},
    {"conv3x3_in1_s8_dsp", dsp::accepts_conv3x3_in1, dsp::run_conv3x3_in1, nullptr, nullptr, nullptr},
};
const ConvKernel kDepthwise[] = {
    {"dwconv3x3_s8_dsp_4ch", dsp::accepts_depthwise3x3, dsp::run_depthwise3x3, nullptr, nullptr, nullptr},
};
const PoolKernel kAveragePool[] = {
    {"avgpool_s8_dsp_4ch", dsp::accepts_average_pool, dsp::run_average_pool},
};
}  // namespace

extern const KernelLevel kArmDspLevel = {KernelSet::kArmDsp,
                                         cpu_supports,
                                         1,
                                         16,
                                         kConv,
                                         static_cast<int>(sizeof(kConv) / sizeof(kConv[0])),
                                         kDepthwise,
                                         static_cast<int>(sizeof(kDepthwise) / sizeof(kDepthwise[0])),
                                         kAveragePool,
                                         static_cast<int>(sizeof(kAveragePool) / sizeof(kAveragePool[0]))};
}  // namespace micronet_ad::kernels
#endif
