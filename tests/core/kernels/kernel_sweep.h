// The per-kernel byte-equality sweep: every kernel of a level against the reference kernel over
// generated problems — channel tails, 1x1 and tiny maps, the models' own shapes, strides 1 and 2,
// SAME and VALID, extreme zero points, multipliers and shifts, wrapping biases, and each accepted
// convolution again in row bands (as band fusion runs it). Portable and heap-free: the host test
// (kernel_sweep_test.cc) and the device firmware (embedded/kernel_sweep.cc, under
// QEMU) run the same code, so a level is checked where it runs.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/level.h"

namespace micronet_ad::kernel_sweep {

// Memory the sweep carves its problems from (the largest problem needs under this).
constexpr std::size_t kPoolBytes = 448 * 1024;

struct KernelTally {
  const char* name = nullptr;  // the kernel's name
  int cases = 0;               // problems it accepted and ran (whole and in bands)
  int failures = 0;
};

struct Result {
  static constexpr int kMaxKernels = 16;
  KernelTally kernels[kMaxKernels];
  int num_kernels = 0;
  int cases = 0, failures = 0;
  char first_failure[200] = {};  // the first differing problem, described
};

// Runs every sweep through `level`'s kernels. `pool` holds kPoolBytes.
Result run(const kernels::KernelLevel& level, std::uint8_t* pool, std::size_t pool_bytes);

}  // namespace micronet_ad::kernel_sweep
