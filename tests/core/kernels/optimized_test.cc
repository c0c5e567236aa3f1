// Optimized kernels (AVX2, AVX-512 VNNI) against the reference kernels: byte-equal over a sweep of
// shapes, zero points, multipliers and activation ranges, and on every golden vector of the three
// models through each dispatch level. A level the CPU (or build) lacks is skipped, and says so;
// the reference path is always tested.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "host/io/model_file.h"
#include "kernels/geometry.h"
#include "kernels/optimized/optimized.h"
#include "kernels/reference/reference.h"
#include "micronet_ad/interpreter.h"
#include "quant/quantization.h"
#include "support/test_data.h"

namespace micronet_ad {
namespace {

namespace opt = kernels::opt;
using kernels::ConvGeometry;
using kernels::Requantization;

const char* level_name(opt::Level level) {
  switch (level) {
    case opt::Level::kReference:
      return "reference";
    case opt::Level::kAvx2:
      return "avx2";
    case opt::Level::kAvx512Vnni:
      return "avx512vnni";
  }
  return "?";
}

KernelSet kernel_set_of(opt::Level level) {
  switch (level) {
    case opt::Level::kAvx2:
      return KernelSet::kAvx2;
    case opt::Level::kAvx512Vnni:
      return KernelSet::kAvx512Vnni;
    default:
      return KernelSet::kReference;
  }
}

bool available(opt::Level level) { return opt::compiled(level) && opt::cpu_supports(level); }

#define SKIP_IF_UNAVAILABLE(level) \
  if (!available(level))           \
  GTEST_SKIP() << "this CPU (or build) lacks " << level_name(level) << ": optimized level not tested here"

// One convolution problem with random data and (sometimes extreme) quantization.
struct Problem {
  ConvGeometry g;
  Requantization rq;
  std::vector<std::int8_t> x, w;
  std::vector<std::int32_t> bias, multipliers, shifts;  // multipliers/shifts padded to 16
};

enum class Extremes { kRandom, kZeroPointMin, kZeroPointMax, kLargeLeftShift, kTinyMultiplier, kSaturate };

Problem make_problem(int h, int w, int in_c, int out_c, int k, int stride, Padding padding, bool depthwise,
                     Extremes extremes, std::mt19937& rng) {
  Problem p;
  ConvGeometry& g = p.g;
  g.in_h = h;
  g.in_w = w;
  g.in_c = in_c;
  g.out_c = depthwise ? in_c : out_c;
  g.filter_h = g.filter_w = k;
  g.stride_h = g.stride_w = stride;
  g.out_h = kernels::output_size(padding, h, k, stride, 1);
  g.out_w = kernels::output_size(padding, w, k, stride, 1);
  g.pad_top = kernels::padding_before(padding, h, g.out_h, k, stride, 1);
  g.pad_left = kernels::padding_before(padding, w, g.out_w, k, stride, 1);
  std::uniform_int_distribution<int> byte(-128, 127);
  std::int32_t in_zp = byte(rng), out_zp = byte(rng);
  if (extremes == Extremes::kZeroPointMin) in_zp = out_zp = -128;
  if (extremes == Extremes::kZeroPointMax) in_zp = out_zp = 127;
  p.rq.input_offset = -in_zp;
  p.rq.output_offset = out_zp;
  p.rq.act_min = -128;
  p.rq.act_max = 127;
  if (extremes == Extremes::kRandom) {  // a RELU6-like narrow range
    p.rq.act_min = std::max(-128, out_zp);
    p.rq.act_max = std::min(127, out_zp + 40);
  }
  p.x.resize(static_cast<std::size_t>(h) * w * in_c);
  for (auto& v : p.x) v = static_cast<std::int8_t>(byte(rng));
  p.w.resize(depthwise ? static_cast<std::size_t>(k) * k * in_c : static_cast<std::size_t>(out_c) * k * k * in_c);
  for (auto& v : p.w) v = static_cast<std::int8_t>(byte(rng));
  if (extremes == Extremes::kSaturate)
    for (auto& v : p.w) v = (v & 1) ? 127 : -128;
  std::uniform_int_distribution<std::int32_t> small_bias(-50000, 50000);
  std::uniform_int_distribution<std::int32_t> any_int32(INT32_MIN, INT32_MAX);
  std::uniform_int_distribution<std::int32_t> significand(1 << 30, INT32_MAX);
  std::uniform_int_distribution<int> right(-31, 0), left(1, 30), usual(-20, 2);
  const int padded = opt::padded_channels(g.out_c);
  p.multipliers.assign(static_cast<std::size_t>(padded), 0);
  p.shifts.assign(static_cast<std::size_t>(padded), 0);
  for (int c = 0; c < g.out_c; ++c) {
    // Big biases make acc + bias wrap (TFLite's int32 `+`); large left shifts wrap the shift.
    p.bias.push_back(extremes == Extremes::kLargeLeftShift ? any_int32(rng) : small_bias(rng));
    p.multipliers[c] = significand(rng);
    switch (extremes) {
      case Extremes::kLargeLeftShift:
        p.shifts[c] = left(rng);
        break;
      case Extremes::kTinyMultiplier:
        p.shifts[c] = c % 3 == 0 ? -31 : right(rng);
        break;
      case Extremes::kSaturate:
        p.shifts[c] = c % 2 == 0 ? 5 : -3;
        break;
      default:
        p.shifts[c] = usual(rng);
        break;
    }
    if (c % 7 == 3) p.multipliers[c] = 1 << 30;     // exactly 0.5
    if (c % 11 == 5) p.multipliers[c] = INT32_MAX;  // just below 1
  }
  p.rq.multipliers = p.multipliers.data();
  p.rq.shifts = p.shifts.data();
  return p;
}

std::vector<std::int8_t> run_reference(const Problem& p, bool depthwise) {
  std::vector<std::int8_t> y(static_cast<std::size_t>(p.g.out_h) * p.g.out_w * p.g.out_c);
  if (depthwise)
    kernels::reference::depthwise_conv2d(p.g, p.rq, p.x.data(), p.w.data(), p.bias.data(), y.data());
  else
    kernels::reference::conv2d(p.g, p.rq, p.x.data(), p.w.data(), p.bias.data(), y.data());
  return y;
}

// The GEMM path exactly as the interpreter drives it (direct for 1x1 stride 1, else im2col).
std::vector<std::int8_t> run_gemm(opt::Level level, const Problem& p) {
  const ConvGeometry& g = p.g;
  const int m = g.out_h * g.out_w, k = g.filter_h * g.filter_w * g.in_c, n = g.out_c;
  std::vector<std::int8_t> packed(opt::gemm_packed_bytes(level, k, n));
  std::vector<std::int32_t> corr(static_cast<std::size_t>(opt::padded_channels(n)));
  opt::pack_gemm(level, p.w.data(), k, n, p.bias.data(), p.rq.input_offset, packed.data(), corr.data());
  std::vector<std::int8_t> cols;
  const bool direct = g.filter_h == 1 && g.filter_w == 1 && g.stride_h == 1 && g.stride_w == 1;
  std::vector<std::uint8_t> scratch(opt::gemm_scratch_bytes(level, m, k) + 1);
  const int lda = direct ? k : opt::gemm_lda(level, k);
  std::int32_t* terms = nullptr;  // AVX-512 row sums: from im2col, like the interpreter
  if (!direct) {
    cols.resize(static_cast<std::size_t>(m) * lda);
    if (level == opt::Level::kAvx512Vnni) terms = reinterpret_cast<std::int32_t*>(scratch.data());
    opt::im2col(g, p.rq.input_offset, p.x.data(), cols.data(), lda, terms);
  }
  std::vector<std::int8_t> y(static_cast<std::size_t>(m) * n);
  opt::GemmArgs a;
  a.m = m;
  a.k = k;
  a.n = n;
  a.x = direct ? p.x.data() : cols.data();
  a.packed = packed.data();
  a.corr = corr.data();
  a.multipliers = p.multipliers.data();
  a.shifts = p.shifts.data();
  a.input_offset = p.rq.input_offset;
  a.output_offset = p.rq.output_offset;
  a.act_min = p.rq.act_min;
  a.act_max = p.rq.act_max;
  a.y = y.data();
  a.scratch = scratch.data();
  a.lda = lda;
  a.row_terms = terms;
#if defined(__x86_64__)
  if (level == opt::Level::kAvx512Vnni)
    opt::gemm_avx512vnni(a);
  else
    opt::gemm_avx2(a);
#endif
  return y;
}

std::vector<std::int8_t> run_depthwise(opt::Level level, const Problem& p) {
  const ConvGeometry& g = p.g;
  std::vector<std::uint8_t> packed(opt::depthwise_packed_bytes(level, g.filter_h, g.filter_w, g.out_c));
  opt::pack_depthwise(level, p.w.data(), g.filter_h, g.filter_w, g.out_c, p.bias.data(), p.rq.input_offset,
                      packed.data());
  std::vector<std::int8_t> y(static_cast<std::size_t>(g.out_h) * g.out_w * g.out_c);
#if defined(__x86_64__)
  if (level == opt::Level::kAvx512Vnni)
    opt::depthwise_avx512(g, p.rq, p.x.data(), packed.data(), y.data());
  else
    opt::depthwise_avx2(g, p.rq, p.x.data(), packed.data(), y.data());
#endif
  return y;
}

const int kChannels[] = {1, 3, 15, 16, 17, 63, 64, 65, 72, 164, 220, 276};
const Extremes kExtremes[] = {Extremes::kRandom,         Extremes::kZeroPointMin,   Extremes::kZeroPointMax,
                              Extremes::kLargeLeftShift, Extremes::kTinyMultiplier, Extremes::kSaturate};

std::string label(const Problem& p, int extremes) {
  const ConvGeometry& g = p.g;
  return std::to_string(g.in_h) + "x" + std::to_string(g.in_w) + "x" + std::to_string(g.in_c) + " -> " +
         std::to_string(g.out_h) + "x" + std::to_string(g.out_w) + "x" + std::to_string(g.out_c) + " k" +
         std::to_string(g.filter_h) + " s" + std::to_string(g.stride_h) + " pad " + std::to_string(g.pad_top) + "," +
         std::to_string(g.pad_left) + " extremes " + std::to_string(extremes) + " in_zp " +
         std::to_string(-p.rq.input_offset);
}

class OptimizedKernels : public ::testing::TestWithParam<opt::Level> {};

TEST_P(OptimizedKernels, PointwiseGemmByteEqualOverChannelSweep) {
  SKIP_IF_UNAVAILABLE(GetParam());
  std::mt19937 rng(1);
  const int maps[][2] = {{1, 1}, {1, 7}, {5, 5}};
  int cases = 0;
  for (int in_c : kChannels)
    for (int out_c : kChannels)
      for (const auto& map : maps) {
        const int e = cases % 6;
        const Problem p = make_problem(map[0], map[1], in_c, out_c, 1, 1, Padding::kSame, false, kExtremes[e], rng);
        ASSERT_EQ(run_gemm(GetParam(), p), run_reference(p, false)) << label(p, e);
        ++cases;
      }
  // The models' own shapes: 16x16, 8x8 and 4x4 maps.
  for (const auto& s : {std::tuple<int, int, int>{16, 72, 164}, {16, 276, 276}, {8, 220, 276}, {4, 248, 248}})
    for (int e = 0; e < 6; ++e) {
      const int hw = std::get<0>(s);
      const Problem p =
          make_problem(hw, hw, std::get<1>(s), std::get<2>(s), 1, 1, Padding::kSame, false, kExtremes[e], rng);
      ASSERT_EQ(run_gemm(GetParam(), p), run_reference(p, false)) << label(p, e);
    }
}

TEST_P(OptimizedKernels, DepthwiseByteEqualOverShapeSweep) {
  SKIP_IF_UNAVAILABLE(GetParam());
  std::mt19937 rng(2);
  const int maps[][2] = {{1, 1}, {2, 2}, {3, 5}, {8, 8}, {9, 7}};
  int cases = 0;
  for (int c : kChannels)
    for (const auto& map : maps)
      for (int stride : {1, 2})
        for (Padding padding : {Padding::kSame, Padding::kValid})
          for (int k : {3, 1, 2}) {
            if (padding == Padding::kValid && (map[0] < k || map[1] < k)) continue;
            const int e = cases % 6;
            const Problem p = make_problem(map[0], map[1], c, c, k, stride, padding, true, kExtremes[e], rng);
            ASSERT_EQ(run_depthwise(GetParam(), p), run_reference(p, true)) << label(p, e);
            ++cases;
          }
  const Problem p = make_problem(32, 32, 276, 276, 3, 2, Padding::kSame, true, Extremes::kRandom, rng);
  EXPECT_EQ(run_depthwise(GetParam(), p), run_reference(p, true));
}

TEST_P(OptimizedKernels, Im2colConvByteEqualOverShapeSweep) {
  SKIP_IF_UNAVAILABLE(GetParam());
  std::mt19937 rng(3);
  const int maps[][2] = {{1, 1}, {2, 3}, {7, 6}, {32, 32}};
  int cases = 0;
  for (int in_c : {1, 3})
    for (int out_c : kChannels)
      for (const auto& map : maps)
        for (int stride : {1, 2})
          for (Padding padding : {Padding::kSame, Padding::kValid}) {
            if (padding == Padding::kValid && (map[0] < 3 || map[1] < 3)) continue;
            if (map[0] == 32 && out_c % 4 != 0) continue;  // keep the big map to a few widths
            const int e = cases % 6;
            const Problem p = make_problem(map[0], map[1], in_c, out_c, 3, stride, padding, false, kExtremes[e], rng);
            ASSERT_EQ(run_gemm(GetParam(), p), run_reference(p, false)) << label(p, e);
            ++cases;
          }
}

// The vectorized requantization against quant.h for accumulators across the whole int32 range
// (INT32_MIN, INT32_MAX, values either side of every rounding tie), every shift from −31 to 31
// and multipliers at the edges (0.5 exactly, just below 1, INT32_MIN, negative, zero). A 1x1
// convolution with weight 1 and input offset 0 makes the accumulator x + bias: x walks −128..127
// over the 16x16 map, and the bias of each channel places that walk.
Problem requantization_sweep(bool depthwise, std::int32_t output_offset) {
  const std::int32_t multipliers[] = {1 << 30, (1 << 30) + 1, INT32_MAX, INT32_MAX - 1, 1, 0,
                                      -1,      INT32_MIN,     1518500250};
  const std::int32_t biases[] = {INT32_MIN + 128, INT32_MAX - 127,  0,    1 << 30, -(1 << 30),
                                 (1 << 16) + 128, -(1 << 20) - 128, 77777};
  Problem p;
  ConvGeometry& g = p.g;
  for (std::int32_t m : multipliers)
    for (int shift = -31; shift <= 31; ++shift)
      for (std::int32_t b : biases) {
        p.multipliers.push_back(m);
        p.shifts.push_back(shift);
        p.bias.push_back(b);
      }
  const int channels = static_cast<int>(p.bias.size());  // 4536: not a multiple of 16 or 32
  g.in_h = g.in_w = g.out_h = g.out_w = 16;
  g.in_c = depthwise ? channels : 1;
  g.out_c = channels;
  p.multipliers.resize(static_cast<std::size_t>(opt::padded_channels(channels)), 0);
  p.shifts.resize(p.multipliers.size(), 0);
  for (int px = 0; px < 256; ++px)
    for (int c = 0; c < g.in_c; ++c) p.x.push_back(static_cast<std::int8_t>(px - 128));
  p.w.assign(static_cast<std::size_t>(channels), 1);
  p.rq.input_offset = 0;
  p.rq.output_offset = output_offset;
  p.rq.multipliers = p.multipliers.data();
  p.rq.shifts = p.shifts.data();
  return p;
}

TEST_P(OptimizedKernels, RequantizationEqualsScalarOverInt32RangeShiftsAndMultipliers) {
  SKIP_IF_UNAVAILABLE(GetParam());
  // Offset 0 keeps the saturated INT32_MAX (a = b = INT32_MIN) apart from a wrapped INT32_MIN.
  // A clamp floor at the output zero point (RELU-like) takes AVX-512's shorter road for shifts
  // −23..−1 and the general one elsewhere: both over the same sweep.
  struct Case {
    std::int32_t output_offset, act_min;
  };
  for (const Case& rc : {Case{0, -128}, Case{-3, -128}, Case{0, 0}, Case{-3, -3}, Case{-128, -128}, Case{100, 101}})
    for (bool depthwise : {false, true}) {
      SCOPED_TRACE("output offset " + std::to_string(rc.output_offset) + ", act_min " + std::to_string(rc.act_min));
      Problem p = requantization_sweep(depthwise, rc.output_offset);
      p.rq.act_min = rc.act_min;
      const std::int32_t output_offset = rc.output_offset;
      const std::vector<std::int8_t> want = run_reference(p, depthwise);
      // The sweep must reach both clamps and the values between, or it proves little.
      const auto floor = static_cast<std::int8_t>(rc.act_min);
      EXPECT_NE(std::count(want.begin(), want.end(), floor), 0);
      EXPECT_NE(std::count(want.begin(), want.end(), std::int8_t{127}), 0);
      EXPECT_GT(std::count_if(want.begin(), want.end(), [&](std::int8_t v) { return v > floor && v < 127; }),
                rc.act_min > 0 ? 1000 : 10000);
      const std::vector<std::int8_t> got = depthwise ? run_depthwise(GetParam(), p) : run_gemm(GetParam(), p);
      ASSERT_EQ(got.size(), want.size());
      int shown = 0;
      for (std::size_t i = 0; i < got.size() && shown < 5; ++i) {
        if (got[i] == want[i]) continue;
        const std::size_t c = i % static_cast<std::size_t>(p.g.out_c);
        const int x = static_cast<int>(i / static_cast<std::size_t>(p.g.out_c)) - 128;
        const auto acc =
            static_cast<std::int32_t>(static_cast<std::uint32_t>(x) + static_cast<std::uint32_t>(p.bias[c]));
        ADD_FAILURE() << (depthwise ? "depthwise" : "gemm") << " offset " << output_offset << " acc " << acc
                      << " multiplier " << p.multipliers[c] << " shift " << p.shifts[c] << ": got " << int{got[i]}
                      << ", want " << int{want[i]};
        ++shown;
      }
    }
}

// Depthwise filters other than 3x3 take the AVX-512 runtime-taps path; dilation too (for 3x3 it
// changes which input columns neighbouring outputs share: strides 1 and 2 against dilations 1, 2).
TEST_P(OptimizedKernels, DepthwiseOtherFiltersAndDilationByteEqual) {
  SKIP_IF_UNAVAILABLE(GetParam());
  std::mt19937 rng(4);
  int cases = 0;
  for (int c : {5, 33, 72, 130})
    for (int k : {2, 3, 4, 5})
      for (int stride : {1, 2})
        for (int dilation : {1, 2}) {
          const int e = cases++ % 6;
          Problem p = make_problem(9, 11, c, c, k, stride, Padding::kSame, true, kExtremes[e], rng);
          ConvGeometry& g = p.g;
          g.dilation_h = g.dilation_w = dilation;
          g.out_h = kernels::output_size(Padding::kSame, g.in_h, k, stride, dilation);
          g.out_w = kernels::output_size(Padding::kSame, g.in_w, k, stride, dilation);
          g.pad_top = kernels::padding_before(Padding::kSame, g.in_h, g.out_h, k, stride, dilation);
          g.pad_left = kernels::padding_before(Padding::kSame, g.in_w, g.out_w, k, stride, dilation);
          ASSERT_EQ(run_depthwise(GetParam(), p), run_reference(p, true)) << label(p, e) << " dilation " << dilation;
        }
}

// Average pooling (AVX-512 only; AVX2 pools with the reference kernel): windows from 1x1 to the
// whole map, strides, SAME padding's partial windows (counts that are not powers of two), channel
// tails, negative and positive sums exactly on the ±count/2 rounding ties, narrow clamps.
TEST_P(OptimizedKernels, AveragePoolByteEqual) {
  SKIP_IF_UNAVAILABLE(GetParam());
  if (GetParam() != opt::Level::kAvx512Vnni) GTEST_SKIP() << "AVX2 pools with the reference kernel";
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> byte(-128, 127);
  int cases = 0;
  for (int c : {1, 15, 16, 17, 276})
    for (int hw : {1, 4, 7})
      for (int k : {1, 2, 3, 4, 7})
        for (int stride : {1, 2})
          for (Padding padding : {Padding::kSame, Padding::kValid}) {
            if (k > hw && padding == Padding::kValid) continue;
            kernels::PoolGeometry g;
            g.in_h = g.in_w = hw;
            g.channels = c;
            g.filter_h = g.filter_w = k;
            g.stride_h = g.stride_w = stride;
            g.out_h = g.out_w = kernels::output_size(padding, hw, k, stride, 1);
            g.pad_top = g.pad_left = kernels::padding_before(padding, hw, g.out_h, k, stride, 1);
            if (cases % 3 == 1) {
              g.act_min = -20;
              g.act_max = 30;
            }
            std::vector<std::int8_t> x(static_cast<std::size_t>(hw) * hw * c);
            const int mode = cases % 4;  // random, all −128, all 127, ±1 patterns (ties)
            for (std::size_t i = 0; i < x.size(); ++i)
              x[i] = static_cast<std::int8_t>(mode == 0   ? byte(rng)
                                              : mode == 1 ? -128
                                              : mode == 2 ? 127
                                                          : (i % 3 == 0 ? -1 : 1));
            std::vector<std::int8_t> want(static_cast<std::size_t>(g.out_h) * g.out_w * c), got(want.size());
            kernels::reference::average_pool2d(g, x.data(), want.data());
#if defined(__x86_64__)
            opt::average_pool_avx512(g, x.data(), got.data());
#endif
            ASSERT_EQ(got, want) << hw << "x" << hw << "x" << c << " k" << k << " s" << stride << " case " << cases;
            ++cases;
          }
  EXPECT_GT(cases, 200);
}

INSTANTIATE_TEST_SUITE_P(Levels, OptimizedKernels, ::testing::Values(opt::Level::kAvx2, opt::Level::kAvx512Vnni),
                         [](const ::testing::TestParamInfo<opt::Level>& info) {
                           return std::string(level_name(info.param));
                         });

// --- Whole models, every golden vector, through each dispatch level -----------------------------

constexpr int kGoldenInputs = 256;
constexpr int kInputBytes = 1024;
constexpr int kOutputBytes = 8;

class GoldenThroughLevel : public ::testing::TestWithParam<std::tuple<const char*, opt::Level>> {};

TEST_P(GoldenThroughLevel, AllOutputsAndLayersByteEqual) {
  const std::string name = std::get<0>(GetParam());
  const opt::Level level = std::get<1>(GetParam());
  SKIP_IF_UNAVAILABLE(level);
  const auto file = host::load_model_file(test::model_path(name));
  host::Engine engine(file->model, kernel_set_of(level));
  ASSERT_EQ(engine.interpreter().kernel_set(), kernel_set_of(level));
  const auto inputs = test::shared_int8("golden/engine/inputs_256x1024.i8");
  const auto expected = test::shared_int8("golden/engine/ad_" + name + "_outputs_256x8.i8");
  ASSERT_EQ(inputs.size(), static_cast<std::size_t>(kGoldenInputs * kInputBytes));
  ASSERT_EQ(expected.size(), static_cast<std::size_t>(kGoldenInputs * kOutputBytes));
  int mismatched = 0;
  for (int i = 0; i < kGoldenInputs; ++i) {
    std::copy_n(inputs.data() + i * kInputBytes, kInputBytes, engine.input());
    engine.invoke();
    if (std::memcmp(engine.output(), expected.data() + i * kOutputBytes, kOutputBytes) != 0) {
      ADD_FAILURE() << name << " " << level_name(level) << " input " << i << " differs from TFLite Micro";
      if (++mismatched > 5) break;
    }
  }
  // Every intermediate tensor equal to the reference interpreter's, for two inputs.
  host::Engine reference(file->model, KernelSet::kReference);
  for (int i = 0; i < 2; ++i) {
    std::vector<std::vector<std::int8_t>> got(file->model.num_operators()), want(file->model.num_operators());
    auto capture = [](void* ctx, int op, const TensorInfo& out, const std::int8_t* data) {
      (*static_cast<std::vector<std::vector<std::int8_t>>*>(ctx))[op].assign(data, data + out.bytes);
    };
    engine.interpreter().set_observer(capture, &got);
    reference.interpreter().set_observer(capture, &want);
    std::copy_n(inputs.data() + i * kInputBytes, kInputBytes, engine.input());
    std::copy_n(inputs.data() + i * kInputBytes, kInputBytes, reference.input());
    engine.invoke();
    reference.invoke();
    for (int op = 0; op < file->model.num_operators(); ++op) EXPECT_EQ(got[op], want[op]) << name << " op " << op;
  }
}

INSTANTIATE_TEST_SUITE_P(ModelsAndLevels, GoldenThroughLevel,
                         ::testing::Combine(::testing::Values("small", "medium", "large"),
                                            ::testing::Values(opt::Level::kReference, opt::Level::kAvx2,
                                                              opt::Level::kAvx512Vnni)),
                         [](const ::testing::TestParamInfo<std::tuple<const char*, opt::Level>>& info) {
                           return std::string(std::get<0>(info.param)) + "_" + level_name(std::get<1>(info.param));
                         });

// --- Dispatch and memory -------------------------------------------------------------------------

TEST(KernelDispatch, AutoPicksTheBestLevelAndReferenceMemoryIsUnchanged) {
  const auto file = host::load_model_file(test::model_path("small"));
  const Model& model = file->model;
  host::Engine automatic(model);
  // AVX-VNNI sits between AVX2 and AVX-512 VNNI: auto takes it on a CPU that has it and lacks
  // AVX-512 VNNI (Intel client cores).
  const opt::Level best = opt::best_level();
  const KernelSet expected_auto =
      best == opt::Level::kAvx2 && opt::avxvnni_supported() ? KernelSet::kAvxVnni : kernel_set_of(best);
  EXPECT_EQ(automatic.interpreter().kernel_set(), expected_auto) << "best level " << level_name(best);
  // The reference layout is the arena plus two int32 per output channel (16-byte aligned each).
  std::size_t expected = kArenaAlignment + model.arena_bytes();
  for (int i = 0; i < model.num_operators(); ++i) {
    const OperatorInfo& op = model.op(i);
    if (op.type != OpType::kConv2D && op.type != OpType::kDepthwiseConv2D) continue;
    expected += (8 * static_cast<std::size_t>(model.tensor(op.output).shape.dims[3]) + 15) / 16 * 16;
  }
  EXPECT_EQ(Interpreter::required_memory(model, KernelSet::kReference), expected);
  for (KernelSet set : {KernelSet::kAvx2, KernelSet::kAvxVnni, KernelSet::kAvx512Vnni}) {
    if (!Interpreter::kernel_set_supported(set)) {
      std::vector<std::uint8_t> memory(Interpreter::required_memory(model, set));
      Interpreter interpreter;
      EXPECT_FALSE(interpreter.init(model, memory.data(), memory.size(), set)) << kernel_set_name(set);
      continue;
    }
    // Too little memory is refused, the exact amount accepted.
    std::vector<std::uint8_t> memory(Interpreter::required_memory(model, set));
    Interpreter interpreter;
    EXPECT_FALSE(interpreter.init(model, memory.data(), memory.size() - 1, set));
    EXPECT_TRUE(interpreter.init(model, memory.data(), memory.size(), set)) << kernel_set_name(set);
  }
}

TEST(KernelDispatch, NamesRoundTrip) {
  for (KernelSet set :
       {KernelSet::kReference, KernelSet::kAuto, KernelSet::kAvx2, KernelSet::kAvx512Vnni, KernelSet::kArmDsp,
        KernelSet::kArmMve, KernelSet::kArmNeon, KernelSet::kArmNeonDotprod, KernelSet::kAvxVnni}) {
    KernelSet parsed = KernelSet::kAuto;
    ASSERT_TRUE(parse_kernel_set(kernel_set_name(set), &parsed));
    EXPECT_EQ(parsed, set);
  }
  KernelSet parsed = KernelSet::kAuto;
  EXPECT_FALSE(parse_kernel_set("sve2", &parsed));
}

// The Arm levels exist only in Cortex-M and AArch64 builds: on this host they are refused at init
// with a message, never silently replaced by another level.
TEST(KernelDispatch, LevelsThisBuildLacksAreRefused) {
  const auto file = host::load_model_file(test::model_path("small"));
  for (KernelSet set : {KernelSet::kArmDsp, KernelSet::kArmMve, KernelSet::kArmNeon, KernelSet::kArmNeonDotprod}) {
    EXPECT_FALSE(Interpreter::kernel_set_supported(set)) << kernel_set_name(set);
    std::vector<std::uint8_t> memory(Interpreter::required_memory(file->model, KernelSet::kReference) + 4096);
    Interpreter interpreter;
    const Status status = interpreter.init(file->model, memory.data(), memory.size(), set);
    ASSERT_FALSE(status.ok());
    EXPECT_NE(std::string(status.message()).find("not supported"), std::string::npos) << status.message();
  }
}

}  // namespace
}  // namespace micronet_ad
