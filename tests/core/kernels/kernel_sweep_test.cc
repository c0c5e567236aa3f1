// Every kernel level this build and CPU have, through the portable byte-equality sweep
// (kernel_sweep.cc): the same sweep the firmware runs on the Cortex-M levels under QEMU.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "avxvnni_emulated.h"
#include "core/kernels/kernel_sweep.h"
#include "kernels/level.h"

namespace micronet_ad {
namespace {

using kernels::KernelLevel;

// The compiled levels that have kernels (the reference level has none: it is what they equal).
std::vector<const KernelLevel*> levels() {
  int count = 0;
  const KernelLevel* const* all = kernels::compiled_levels(&count);
  std::vector<const KernelLevel*> with_kernels;
  for (int i = 0; i < count; ++i)
    if (all[i]->conv_count + all[i]->depthwise_count + all[i]->average_pool_count > 0) with_kernels.push_back(all[i]);
#if defined(__x86_64__)
  with_kernels.push_back(&test::kAvxVnniEmulatedLevel);  // the AVX-VNNI GEMM on any AVX2 CPU
#endif
  return with_kernels;
}

class KernelSweep : public ::testing::TestWithParam<const KernelLevel*> {};
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(KernelSweep);  // a host with no optimized level

TEST_P(KernelSweep, EveryKernelByteEqualToTheReference) {
  const KernelLevel& level = *GetParam();
  if (!level.cpu_supports()) GTEST_SKIP() << "this CPU lacks " << kernel_set_name(level.set);
  std::vector<std::uint8_t> pool(kernel_sweep::kPoolBytes);
  const kernel_sweep::Result result = kernel_sweep::run(level, pool.data(), pool.size());
  EXPECT_EQ(result.failures, 0) << result.first_failure;
  // Every kernel in the level's row must have been reached, or the sweep proves nothing about it.
  auto ran = [&](const char* name) {
    for (int i = 0; i < result.num_kernels; ++i)
      if (std::string(result.kernels[i].name) == name) return result.kernels[i].cases;
    return 0;
  };
  for (int i = 0; i < level.conv_count; ++i) EXPECT_GT(ran(level.conv[i].name), 20) << level.conv[i].name;
  for (int i = 0; i < level.depthwise_count; ++i)
    EXPECT_GT(ran(level.depthwise[i].name), 20) << level.depthwise[i].name;
  for (int i = 0; i < level.average_pool_count; ++i)
    EXPECT_GT(ran(level.average_pool[i].name), 20) << level.average_pool[i].name;
  for (int i = 0; i < result.num_kernels; ++i)
    std::printf("  %-32s %5d cases, %d differ\n", result.kernels[i].name, result.kernels[i].cases,
                result.kernels[i].failures);
}

INSTANTIATE_TEST_SUITE_P(Levels, KernelSweep, ::testing::ValuesIn(levels()),
                         [](const ::testing::TestParamInfo<const KernelLevel*>& info) {
                           const std::string name = kernel_set_name(info.param->set);
#if defined(__x86_64__)
                           if (info.param == &test::kAvxVnniEmulatedLevel) return name + "_emulated";
#endif
                           return name;
                         });

}  // namespace
}  // namespace micronet_ad
