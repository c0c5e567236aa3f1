// Per-kernel micro-benchmarks on MicroNet's layer shapes: reference vs each optimized level the
// CPU supports, and the core's vpdpbusd and vpmaddwd peaks. Counters: MAC/s of the kernel.
// Run: build/bench/micronet_ad_kernel_bench
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

#include "cpu_peak.h"
#include "kernels/geometry.h"
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

// level: 0 reference, 1 avx2, 2 avx512vnni; batch: images per call (a clip's windows as one batch)
void BM_Conv(benchmark::State& state) {
  const auto level = static_cast<opt::Level>(state.range(0));
  Layer l = make(static_cast<int>(state.range(1)), static_cast<int>(state.range(2)), static_cast<int>(state.range(3)),
                 static_cast<int>(state.range(4)), 1, false, static_cast<int>(state.range(5)));
  if (!opt::compiled(level) || !opt::cpu_supports(level)) {
    state.SkipWithError("CPU lacks this level");
    return;
  }
  const ConvGeometry& g = l.g;
  const int m = g.batches * g.out_h * g.out_w, k = g.filter_h * g.filter_w * g.in_c;
  opt::GemmArgs a;
  if (level != opt::Level::kReference) {
    l.packed.resize(opt::gemm_packed_bytes(level, k, g.out_c));
    l.corr.resize(static_cast<std::size_t>(opt::padded_channels(g.out_c)));
    opt::pack_gemm(level, l.w.data(), k, g.out_c, l.bias.data(), l.rq.input_offset, l.packed.data(), l.corr.data());
    l.cols.resize(static_cast<std::size_t>(m) * opt::gemm_lda(level, k));
    l.scratch.resize(opt::gemm_scratch_bytes(level, m, k) + 1);
    a.m = m;
    a.k = k;
    a.n = g.out_c;
    a.x = g.filter_h == 1 ? l.x.data() : l.cols.data();
    a.packed = l.packed.data();
    a.corr = l.corr.data();
    a.multipliers = l.mult.data();
    a.shifts = l.shift.data();
    a.input_offset = l.rq.input_offset;
    a.output_offset = l.rq.output_offset;
    a.y = l.y.data();
    a.scratch = l.scratch.data();
  }
  for (auto _ : state) {
    if (level == opt::Level::kReference) {
      reference::conv2d(g, l.rq, l.x.data(), l.w.data(), l.bias.data(), l.y.data());
    } else {
#if defined(__x86_64__)
      if (g.filter_h != 1) {
        a.lda = opt::gemm_lda(level, k);
        auto* terms = level == opt::Level::kAvx512Vnni ? reinterpret_cast<std::int32_t*>(l.scratch.data()) : nullptr;
        opt::im2col(g, l.rq.input_offset, l.x.data(), l.cols.data(), a.lda, terms);
        a.row_terms = terms;
      }
      if (level == opt::Level::kAvx512Vnni)
        opt::gemm_avx512vnni(a);
      else
        opt::gemm_avx2(a);
#endif
    }
    benchmark::DoNotOptimize(l.y.data());
  }
  state.counters["MAC/s"] =
      benchmark::Counter(static_cast<double>(macs(g, false)), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_Depthwise(benchmark::State& state) {
  const auto level = static_cast<opt::Level>(state.range(0));
  Layer l = make(static_cast<int>(state.range(1)), static_cast<int>(state.range(2)), 0, 3,
                 static_cast<int>(state.range(3)), true);
  if (!opt::compiled(level) || !opt::cpu_supports(level)) {
    state.SkipWithError("CPU lacks this level");
    return;
  }
  const ConvGeometry& g = l.g;
  std::vector<std::uint8_t> packed(opt::depthwise_packed_bytes(level, 3, 3, g.out_c));
  opt::pack_depthwise(level, l.w.data(), 3, 3, g.out_c, l.bias.data(), l.rq.input_offset, packed.data());
  for (auto _ : state) {
    if (level == opt::Level::kReference) {
      reference::depthwise_conv2d(g, l.rq, l.x.data(), l.w.data(), l.bias.data(), l.y.data());
    } else {
#if defined(__x86_64__)
      if (level == opt::Level::kAvx512Vnni)
        opt::depthwise_avx512(g, l.rq, l.x.data(), packed.data(), l.y.data());
      else
        opt::depthwise_avx2(g, l.rq, l.x.data(), packed.data(), l.y.data());
#endif
    }
    benchmark::DoNotOptimize(l.y.data());
  }
  state.counters["MAC/s"] =
      benchmark::Counter(static_cast<double>(macs(g, true)), benchmark::Counter::kIsIterationInvariantRate);
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
BENCHMARK(BM_Conv)
    ->ArgNames({"level", "hw", "in_c", "out_c", "k", "batch"})
    ->ArgsProduct({{0, 1, 2}, {16, 8, 4}, {276}, {276}, {1}, {1, 13}})
    ->ArgsProduct({{0, 1, 2}, {32}, {1}, {192}, {3}, {1}});
// {level, hw, channels, stride}
BENCHMARK(BM_Depthwise)
    ->ArgNames({"level", "hw", "c", "stride"})
    ->ArgsProduct({{0, 1, 2}, {16}, {276}, {1}})
    ->ArgsProduct({{0, 1, 2}, {32}, {192}, {2}});

}  // namespace
}  // namespace micronet_ad::kernels
