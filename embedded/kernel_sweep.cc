// Kernel sweep firmware: every kernel level this CPU build contains, through the same portable
// byte-equality sweep the host test runs (tests/core/kernels/kernel_sweep.cc), here on the device
// under QEMU (and on AArch64 Linux under qemu-aarch64: tests/aarch64, scripts/aarch64.sh).
// Prints each kernel's cases; exit 0 only when none differs from the reference and every kernel
// of every level was reached.
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "core/kernels/kernel_sweep.h"
#include "kernels/level.h"

namespace {

alignas(64) std::uint8_t g_pool[micronet_ad::kernel_sweep::kPoolBytes];

// Cases the sweep ran through the kernel called `name`.
int cases_of(const micronet_ad::kernel_sweep::Result& result, const char* name) {
  for (int i = 0; i < result.num_kernels; ++i)
    if (std::strcmp(result.kernels[i].name, name) == 0) return result.kernels[i].cases;
  return 0;
}

// A kernel in the level's row that the sweep never reached proves nothing: that is a failure.
int unreached(const micronet_ad::kernels::KernelLevel& level, const micronet_ad::kernel_sweep::Result& result) {
  int missing = 0;
  auto check = [&](const char* name) {
    if (cases_of(result, name) > 0) return;
    std::printf("  %-32s never reached by the sweep\n", name);
    ++missing;
  };
  for (int i = 0; i < level.conv_count; ++i) check(level.conv[i].name);
  for (int i = 0; i < level.depthwise_count; ++i) check(level.depthwise[i].name);
  for (int i = 0; i < level.average_pool_count; ++i) check(level.average_pool[i].name);
  return missing;
}

}  // namespace

int main() {
  std::printf("micronet-ad kernel sweep: %s on %s\n", MICRONET_AD_CPU_NAME, MICRONET_AD_MACHINE);
  int count = 0, failed = 0, levels_run = 0;
  const micronet_ad::kernels::KernelLevel* const* levels = micronet_ad::kernels::compiled_levels(&count);
  for (int l = 0; l < count; ++l) {
    const micronet_ad::kernels::KernelLevel& level = *levels[l];
    if (level.conv_count + level.depthwise_count + level.average_pool_count == 0) continue;  // the reference
    if (!level.cpu_supports()) {  // e.g. neon_dotprod on a Cortex-A53 (Cortex-M levels: always)
      std::printf("level %s: not supported by this CPU, skipped\n", micronet_ad::kernel_set_name(level.set));
      continue;
    }
    ++levels_run;
    const auto result = micronet_ad::kernel_sweep::run(level, g_pool, sizeof(g_pool));
    std::printf("level %s: %d cases, %d differ\n", micronet_ad::kernel_set_name(level.set), result.cases,
                result.failures);
    for (int i = 0; i < result.num_kernels; ++i)
      std::printf("  %-32s %5d cases, %d differ\n", result.kernels[i].name, result.kernels[i].cases,
                  result.kernels[i].failures);
    if (result.failures > 0) std::printf("  first: %s\n", result.first_failure);
    if (result.failures > 0 || unreached(level, result) > 0) ++failed;
  }
  if (levels_run == 0) {
    std::printf("FAIL: this build has no kernel level to sweep\n");
    return 1;
  }
  if (failed > 0) {
    std::printf("FAIL: %d of %d levels differ from the reference kernels\n", failed, levels_run);
    return 1;
  }
  std::printf("PASS: every kernel of %d levels byte-equal to the reference kernels\n", levels_run);
  return 0;
}
