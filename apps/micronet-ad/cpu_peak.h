// The peak int8 multiply-accumulate rate of this CPU core with the instruction a kernel level's
// GEMM is built on, measured when asked: a peak copied from another machine says nothing about
// the one at hand (docs/kernels.md, "Measuring").
#pragma once

#include "micronet_ad/interpreter.h"

namespace micronet_ad::cli {

struct CpuPeak {
  const char* instruction = "";  // "vpmaddwd ymm", "vpdpbusd zmm"; empty when the level has none here
  double macs_per_second = 0.0;  // the best of a few short runs, one thread
};

CpuPeak measure_cpu_peak(KernelSet set);

}  // namespace micronet_ad::cli
