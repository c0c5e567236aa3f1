// Per-kernel micro-benchmarks on MicroNet's layer shapes: reference vs each optimized level the
// CPU supports, and the core's vpdpbusd and vpmaddwd peaks. Counters: MAC/s of the kernel.
// Run: build/bench/micronet_ad_kernel_bench
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <random>
#include <vector>

#include "cpu_peak.h"
#include "kernels/geometry.h"
#include "kernels/level.h"
#include "kernels/optimized/optimized.h"
#include "kernels/reference/reference.h"

namespace micronet_ad::kernels {
namespace {

struct Layer {
  ConvGeometry g;
  Requantization rq;
  std::vector<std::int8_t> x, w, y, packed, cols;
  std::vector<std::int32_t> bias, mult, shift, corr;
  std::vector<std::uint8_t> scratch;
};

Layer make(int hw, int in_c, int out_c, int k, int stride, bool depthwise, int batches = 1) {
  Layer l;
  ConvGeometry& g = l.g;
  g.batches = batches;
  g.in_h = g.in_w = hw;
  g.in_c = in_c;
  g.out_c = depthwise ? in_c : out_c;
  g.filter_h = g.filter_w = k;
  g.stride_h = g.stride_w = stride;
  g.out_h = g.out_w = output_size(Padding::kSame, hw, k, stride, 1);
  g.pad_top = g.pad_left = padding_before(Padding::kSame, hw, g.out_h, k, stride, 1);
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> byte(-128, 127);
  l.x.resize(static_cast<std::size_t>(batches) * hw * hw * in_c);
  for (auto& v : l.x) v = static_cast<std::int8_t>(byte(rng));
  l.w.resize(depthwise ? static_cast<std::size_t>(k) * k * in_c : static_cast<std::size_t>(out_c) * k * k * in_c);
  for (auto& v : l.w) v = static_cast<std::int8_t>(byte(rng));
  const int np = opt::padded_channels(g.out_c);
  l.bias.assign(static_cast<std::size_t>(g.out_c), 1000);
  l.mult.assign(static_cast<std::size_t>(np), 1518500250);
  l.shift.assign(static_cast<std::size_t>(np), -9);
  l.rq.input_offset = 128;
  l.rq.output_offset = -128;
  l.rq.act_min = -128;
  l.rq.act_max = 127;
  l.rq.multipliers = l.mult.data();
  l.rq.shifts = l.shift.data();
  l.y.resize(static_cast<std::size_t>(batches) * g.out_h * g.out_w * g.out_c);
  return l;
}

std::int64_t macs(const ConvGeometry& g, bool depthwise) {
  return static_cast<std::int64_t>(g.batches) * g.out_h * g.out_w * g.out_c * g.filter_h * g.filter_w *
         (depthwise ? 1 : g.in_c);
}

// 64-byte aligned bytes, as the interpreter gives packed weights and scratch (level.h: alignment).
struct AlignedBytes {
  explicit AlignedBytes(std::size_t n) : p(static_cast<std::uint8_t*>(std::aligned_alloc(64, (n + 64) / 64 * 64))) {}
  ~AlignedBytes() { std::free(p); }
  AlignedBytes(const AlignedBytes&) = delete;
  AlignedBytes& operator=(const AlignedBytes&) = delete;
  std::uint8_t* p;
};

// Times what the interpreter runs for the layer at kernel set `set` (interpreter.h): the first of
// the level's kernels that accepts the shape, with its packed weights and scratch; the reference
// set (and a shape no kernel accepts) runs the reference kernel. The label names the kernel.
void time_layer(benchmark::State& state, Layer& l, bool depthwise) {
  const auto set = static_cast<KernelSet>(state.range(0));
  const KernelLevel* level = find_level(set);
  if (level == nullptr || !level->cpu_supports()) {
    state.SkipWithError("CPU lacks this level");
    return;
  }
  const ConvGeometry& g = l.g;
  const ConvKernel* kernel =
      depthwise ? find_conv(level->depthwise, level->depthwise_count, g) : find_conv(level->conv, level->conv_count, g);
  AlignedBytes packed(kernel != nullptr && kernel->packed_bytes != nullptr ? kernel->packed_bytes(g) : 0);
  AlignedBytes scratch(kernel != nullptr && kernel->scratch_bytes != nullptr ? kernel->scratch_bytes(g) : 0);
  if (kernel != nullptr && kernel->pack != nullptr)
    kernel->pack(g, l.w.data(), l.bias.data(), l.rq.input_offset, packed.p);
  const ConvCall call{&g, &l.rq, l.x.data(), l.w.data(), l.bias.data(), packed.p, scratch.p, l.y.data()};
  for (auto _ : state) {
    if (kernel != nullptr)
      kernel->run(call);
    else if (depthwise)
      reference::depthwise_conv2d(g, l.rq, l.x.data(), l.w.data(), l.bias.data(), l.y.data());
    else
      reference::conv2d(g, l.rq, l.x.data(), l.w.data(), l.bias.data(), l.y.data());
    benchmark::DoNotOptimize(l.y.data());
  }
  state.SetLabel(kernel != nullptr ? kernel->name : "reference");
  state.counters["MAC/s"] =
      benchmark::Counter(static_cast<double>(macs(g, depthwise)), benchmark::Counter::kIsIterationInvariantRate);
}

// {set, hw, in_c, out_c, k, batch}; batch: images per call (a clip's windows as one batch).
void BM_Conv(benchmark::State& state) {
  Layer l = make(static_cast<int>(state.range(1)), static_cast<int>(state.range(2)), static_cast<int>(state.range(3)),
                 static_cast<int>(state.range(4)), 1, false, static_cast<int>(state.range(5)));
  time_layer(state, l, false);
}

// {set, hw, channels, stride}
void BM_Depthwise(benchmark::State& state) {
  Layer l = make(static_cast<int>(state.range(1)), static_cast<int>(state.range(2)), 0, 3,
                 static_cast<int>(state.range(3)), true);
  time_layer(state, l, true);
}

// The ceilings the kernels are measured against: back-to-back multiply-accumulate instructions on
// twelve independent accumulators, nothing else, the same loops as `micronet-ad bench`'s peak
// (apps/micronet-ad/cpu_peak.h). MAC/s here is this core's int8 peak with that instruction.
void peak(benchmark::State& state, KernelSet set, const char* missing) {
  const cli::PeakLoop loop = cli::peak_loop(set);
  if (loop.steps == nullptr) {
    state.SkipWithError(missing);
    return;
  }
  constexpr int kInner = 1000;
  for (auto _ : state) loop.steps(kInner);
  state.counters["MAC/s"] =
      benchmark::Counter(loop.macs_per_step * kInner, benchmark::Counter::kIsIterationInvariantRate);
}
void BM_PeakVpdpbusd(benchmark::State& state) { peak(state, KernelSet::kAvx512Vnni, "CPU lacks AVX-512 VNNI"); }
void BM_PeakVpmaddwd(benchmark::State& state) { peak(state, KernelSet::kAvx2, "CPU lacks AVX2"); }
BENCHMARK(BM_PeakVpdpbusd);
BENCHMARK(BM_PeakVpmaddwd);

// {level, hw, in_c, out_c, k, batch}: ad_medium's pointwise layers, one image and a 10 s clip's 13
// windows as one batch (docs/kernels.md, "Batching a clip's windows"), and the first 3x3 conv.
// The sets by their KernelSet numbers (interpreter.h): reference, avx2, avx512vnni, avxvnni.
constexpr int kRef = static_cast<int>(KernelSet::kReference), kAvx2 = static_cast<int>(KernelSet::kAvx2),
              kAvx512 = static_cast<int>(KernelSet::kAvx512Vnni), kVnni = static_cast<int>(KernelSet::kAvxVnni);
BENCHMARK(BM_Conv)
    ->ArgNames({"set", "hw", "in_c", "out_c", "k", "batch"})
    ->ArgsProduct({{kRef, kAvx2, kVnni, kAvx512}, {16, 8, 4}, {276}, {276}, {1}, {1, 13}})
    ->ArgsProduct({{kRef, kAvx2, kVnni, kAvx512}, {32}, {1}, {192}, {3}, {1}});
// {set, hw, channels, stride}: ad_small's and ad_medium's depthwise layers
BENCHMARK(BM_Depthwise)
    ->ArgNames({"set", "hw", "c", "stride"})
    ->ArgsProduct({{kRef, kAvx2, kVnni, kAvx512}, {16}, {164, 276}, {1}})
    ->ArgsProduct({{kRef, kAvx2, kVnni, kAvx512}, {32}, {72, 192}, {2}});

}  // namespace
}  // namespace micronet_ad::kernels
