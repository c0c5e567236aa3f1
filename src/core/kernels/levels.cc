// The kernel levels this build contains, slowest first: the one table of levels.
#include "kernels/level.h"

namespace micronet_ad::kernels {
namespace {
bool always() { return true; }

// One level per line.
// clang-format off
const KernelLevel* const kLevels[] = {
    &kReferenceLevel,
#if defined(__x86_64__)
    &kAvx2Level,
    &kAvxVnniLevel,
    &kAvx512VnniLevel,
#endif
#if defined(__ARM_FEATURE_DSP)
    &kArmDspLevel,
#endif
#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
    &kArmMveLevel,
#endif
#if defined(__aarch64__)
    &kArmNeonLevel,
    &kArmNeonDotprodLevel,
#endif
};
// clang-format on
}  // namespace

// No kernels: every operator runs the reference kernel.
extern const KernelLevel kReferenceLevel = {
    KernelSet::kReference, always, 1, kArenaAlignment, nullptr, 0, nullptr, 0, nullptr, 0};

const KernelLevel* const* compiled_levels(int* count) {
  *count = static_cast<int>(sizeof(kLevels) / sizeof(kLevels[0]));
  return kLevels;
}

const KernelLevel* find_level(KernelSet set) {
  for (const KernelLevel* level : kLevels)
    if (level->set == set) return level;
  return nullptr;
}

}  // namespace micronet_ad::kernels
