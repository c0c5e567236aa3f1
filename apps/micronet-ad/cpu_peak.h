// The peak int8 multiply-accumulate rate of this CPU core with the instruction a kernel level's
// GEMM is built on, measured when asked: a peak copied from another machine says nothing about
// the one at hand (docs/kernels.md, "Measuring"). `bench` reports it next to the model's rate;
// bench/kernel_bench.cc's BM_Peak* time the same loops under Google Benchmark.
#pragma once

#include "micronet_ad/interpreter.h"

namespace micronet_ad::cli {

// A level's peak loop: steps(n) runs n steps of twelve independent multiply-accumulate
// instructions (written in assembly, so the compiler can neither fold nor reorder them).
struct PeakLoop {
  const char* instruction = "";  // "vpmaddwd ymm", "vpdpbusd zmm"; empty when the level has none here
  double macs_per_step = 0.0;
  void (*steps)(int n) = nullptr;  // null when the level has no loop on this build and CPU
};
PeakLoop peak_loop(KernelSet set);

struct CpuPeak {
  const char* instruction = "";  // as PeakLoop's
  double macs_per_second = 0.0;  // the best of a few short runs, one thread; 0 without a loop
};

// Runs the level's peak loop for a few milliseconds, a few times; the best run is the peak
// (noise only ever makes a run slower).
CpuPeak measure_cpu_peak(KernelSet set);

}  // namespace micronet_ad::cli
