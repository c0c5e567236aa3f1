// Reference kernels against an independently written computation over a sweep of shapes:
// the input is explicitly padded with its zero point, accumulation is in int64, indexing is
// done through a separate tensor helper. Also SAME/VALID geometry against TFLite's documented
// behaviour.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kernels/geometry.h"
#include "kernels/reference/reference.h"
#include "quant/quantization.h"

namespace micronet_ad::kernels {
namespace {

// --- Geometry -------------------------------------------------------------------------------

TEST(Geometry, SameOutputIsCeilAndExtraPaddingGoesAfter) {
  EXPECT_EQ(output_size(Padding::kSame, 32, 3, 1, 1), 32);
  EXPECT_EQ(padding_before(Padding::kSame, 32, 32, 3, 1, 1), 1);
  EXPECT_EQ(output_size(Padding::kSame, 32, 3, 2, 1), 16);
  EXPECT_EQ(padding_before(Padding::kSame, 32, 16, 3, 2, 1), 0);  // total 1: all of it after
  EXPECT_EQ(output_size(Padding::kSame, 5, 3, 2, 1), 3);
  EXPECT_EQ(padding_before(Padding::kSame, 5, 3, 3, 2, 1), 1);
  EXPECT_EQ(output_size(Padding::kSame, 7, 4, 3, 1), 3);
  EXPECT_EQ(padding_before(Padding::kSame, 7, 3, 4, 3, 1), 1);  // total (2·3+4−7)=3 → 1 before
  EXPECT_EQ(output_size(Padding::kSame, 8, 3, 1, 2), 8);        // dilation 2: effective 5
  EXPECT_EQ(padding_before(Padding::kSame, 8, 8, 3, 1, 2), 2);
  EXPECT_EQ(output_size(Padding::kSame, 1, 3, 2, 1), 1);
  EXPECT_EQ(padding_before(Padding::kSame, 1, 1, 3, 2, 1), 1);
}

TEST(Geometry, ValidFitsWholeWindowsOnly) {
  EXPECT_EQ(output_size(Padding::kValid, 4, 4, 1, 1), 1);
  EXPECT_EQ(output_size(Padding::kValid, 32, 3, 1, 1), 30);
  EXPECT_EQ(output_size(Padding::kValid, 32, 3, 2, 1), 15);
  EXPECT_EQ(output_size(Padding::kValid, 8, 3, 1, 3), 2);  // effective 7
  EXPECT_LE(output_size(Padding::kValid, 2, 3, 1, 1), 0);  // rejected by the loader
  EXPECT_EQ(padding_before(Padding::kValid, 32, 30, 3, 1, 1), 0);
}

// --- Independent computation ---------------------------------------------------------------

struct Tensor4 {  // NHWC int8 with explicit dims
  int n, h, w, c;
  std::vector<std::int8_t> v;
  std::int8_t at(int b, int y, int x, int ch) const {
    return v[((static_cast<std::size_t>(b) * h + y) * w + x) * c + ch];
  }
};

// Copies the input into a canvas padded on every side with the zero point.
Tensor4 pad_with_zero_point(const Tensor4& in, int top, int left, int bottom, int right, std::int8_t zp) {
  Tensor4 p{in.n, in.h + top + bottom, in.w + left + right, in.c, {}};
  p.v.assign(static_cast<std::size_t>(p.n) * p.h * p.w * p.c, zp);
  for (int b = 0; b < in.n; ++b)
    for (int y = 0; y < in.h; ++y)
      for (int x = 0; x < in.w; ++x)
        for (int ch = 0; ch < in.c; ++ch)
          p.v[((static_cast<std::size_t>(b) * p.h + y + top) * p.w + x + left) * p.c + ch] = in.at(b, y, x, ch);
  return p;
}

std::int8_t finish(std::int64_t acc, std::int32_t bias, const Requantization& rq, int oc) {
  EXPECT_LE(acc, INT32_MAX);
  EXPECT_GE(acc, INT32_MIN);
  std::int64_t v =
      quant::multiply_by_quantized_multiplier(static_cast<std::int32_t>(acc + bias), rq.multipliers[oc], rq.shifts[oc]);
  v += rq.output_offset;
  v = std::max<std::int64_t>(rq.act_min, std::min<std::int64_t>(rq.act_max, v));
  return static_cast<std::int8_t>(v);
}

struct Case {
  int n, h, w, in_c, out_c_or_mult, k_h, k_w, stride, dilation;
  Padding padding;
};

std::string describe(const Case& c) {
  return "n" + std::to_string(c.n) + " " + std::to_string(c.h) + "x" + std::to_string(c.w) + "x" +
         std::to_string(c.in_c) + " k" + std::to_string(c.k_h) + "x" + std::to_string(c.k_w) + " s" +
         std::to_string(c.stride) + " d" + std::to_string(c.dilation) +
         (c.padding == Padding::kSame ? " SAME" : " VALID") + " oc/m " + std::to_string(c.out_c_or_mult);
}

struct Fixture {
  ConvGeometry g;
  Requantization rq;
  Tensor4 input;
  std::vector<std::int8_t> filter;
  std::vector<std::int32_t> bias, multipliers, shifts;
  int pad_bottom = 0, pad_right = 0;
};

// Random data and quantization, with zero points and multipliers at their extremes now and then.
Fixture make_fixture(const Case& c, bool depthwise, std::mt19937& rng) {
  Fixture f;
  ConvGeometry& g = f.g;
  g.batches = c.n;
  g.in_h = c.h;
  g.in_w = c.w;
  g.in_c = c.in_c;
  g.filter_h = c.k_h;
  g.filter_w = c.k_w;
  g.stride_h = g.stride_w = c.stride;
  g.dilation_h = g.dilation_w = c.dilation;
  g.depth_multiplier = depthwise ? c.out_c_or_mult : 1;
  g.out_c = depthwise ? c.in_c * c.out_c_or_mult : c.out_c_or_mult;
  g.out_h = output_size(c.padding, c.h, c.k_h, c.stride, c.dilation);
  g.out_w = output_size(c.padding, c.w, c.k_w, c.stride, c.dilation);
  g.pad_top = padding_before(c.padding, c.h, g.out_h, c.k_h, c.stride, c.dilation);
  g.pad_left = padding_before(c.padding, c.w, g.out_w, c.k_w, c.stride, c.dilation);
  const int eff_h = (c.k_h - 1) * c.dilation + 1, eff_w = (c.k_w - 1) * c.dilation + 1;
  f.pad_bottom = std::max(0, (g.out_h - 1) * c.stride + eff_h - c.h - g.pad_top);
  f.pad_right = std::max(0, (g.out_w - 1) * c.stride + eff_w - c.w - g.pad_left);

  std::uniform_int_distribution<int> byte(-128, 127);
  std::uniform_int_distribution<int> pick(0, 3);
  const int zp_choice = pick(rng);
  const std::int32_t in_zp = zp_choice == 0 ? -128 : zp_choice == 1 ? 127 : byte(rng);
  f.rq.input_offset = -in_zp;
  f.rq.output_offset = pick(rng) == 0 ? -128 : byte(rng);
  f.rq.act_min = pick(rng) == 0 ? f.rq.output_offset : -128;
  f.rq.act_max = pick(rng) == 0 ? std::min(127, f.rq.output_offset + 60) : 127;
  if (f.rq.act_min > f.rq.act_max) f.rq.act_min = f.rq.act_max;
  f.input = Tensor4{c.n, c.h, c.w, c.in_c, {}};
  f.input.v.resize(static_cast<std::size_t>(c.n) * c.h * c.w * c.in_c);
  for (auto& x : f.input.v) x = static_cast<std::int8_t>(byte(rng));
  const std::size_t filter_size = depthwise ? static_cast<std::size_t>(c.k_h) * c.k_w * g.out_c
                                            : static_cast<std::size_t>(g.out_c) * c.k_h * c.k_w * c.in_c;
  f.filter.resize(filter_size);
  for (auto& w : f.filter) w = static_cast<std::int8_t>(byte(rng));
  std::uniform_int_distribution<std::int32_t> bias(-40000, 40000);
  std::uniform_real_distribution<double> mult(-14.0, 2.0);  // real multipliers 2^-14 .. 4
  for (int oc = 0; oc < g.out_c; ++oc) {
    f.bias.push_back(bias(rng));
    std::int32_t q = 0;
    int s = 0;
    quant::quantize_multiplier(std::exp2(mult(rng)), &q, &s);
    f.multipliers.push_back(q);
    f.shifts.push_back(s);
  }
  f.rq.multipliers = f.multipliers.data();
  f.rq.shifts = f.shifts.data();
  return f;
}

std::vector<Case> sweep() {
  std::vector<Case> cases;
  for (Padding p : {Padding::kSame, Padding::kValid})
    for (int stride : {1, 2, 3})
      for (int k : {1, 3}) {
        cases.push_back({1, 7, 9, 3, 5, k, k, stride, 1, p});
        cases.push_back({1, 1, 1, 17, 1, k == 3 && p == Padding::kValid ? 1 : k, k == 3 && p == Padding::kValid ? 1 : k,
                         stride, 1, p});
        cases.push_back({2, 6, 5, 33, 2, k, k, stride, 1, p});
        cases.push_back({1, 16, 16, 72, 3, k, k, stride, 1, p});
      }
  cases.push_back({1, 8, 8, 4, 3, 3, 3, 1, 2, Padding::kSame});    // dilation
  cases.push_back({1, 9, 7, 5, 2, 2, 3, 1, 2, Padding::kValid});   // rectangular, dilated
  cases.push_back({1, 32, 32, 1, 8, 3, 3, 1, 1, Padding::kSame});  // MicroNet's first layer shape
  cases.push_back({1, 4, 4, 65, 7, 4, 4, 1, 1, Padding::kSame});   // even kernel
  return cases;
}

TEST(ReferenceConv2D, MatchesIndependentComputationOverShapeSweep) {
  std::mt19937 rng(42);
  for (const Case& c : sweep()) {
    Fixture f = make_fixture(c, /*depthwise=*/false, rng);
    const ConvGeometry& g = f.g;
    std::vector<std::int8_t> got(static_cast<std::size_t>(g.batches) * g.out_h * g.out_w * g.out_c);
    reference::conv2d(g, f.rq, f.input.v.data(), f.filter.data(), f.bias.data(), got.data());
    const Tensor4 padded = pad_with_zero_point(f.input, g.pad_top, g.pad_left, f.pad_bottom, f.pad_right,
                                               static_cast<std::int8_t>(-f.rq.input_offset));
    std::size_t i = 0, wrong = 0;
    for (int b = 0; b < g.batches; ++b)
      for (int oy = 0; oy < g.out_h; ++oy)
        for (int ox = 0; ox < g.out_w; ++ox)
          for (int oc = 0; oc < g.out_c; ++oc, ++i) {
            std::int64_t acc = 0;
            for (int fy = 0; fy < g.filter_h; ++fy)
              for (int fx = 0; fx < g.filter_w; ++fx)
                for (int ic = 0; ic < g.in_c; ++ic) {
                  const int x =
                      padded.at(b, oy * g.stride_h + fy * g.dilation_h, ox * g.stride_w + fx * g.dilation_w, ic);
                  const int w =
                      f.filter[((static_cast<std::size_t>(oc) * g.filter_h + fy) * g.filter_w + fx) * g.in_c + ic];
                  acc += static_cast<std::int64_t>(x + f.rq.input_offset) * w;
                }
            wrong += got[i] != finish(acc, f.bias[oc], f.rq, oc);
          }
    EXPECT_EQ(wrong, 0u) << describe(c);
  }
}

TEST(ReferenceDepthwiseConv2D, MatchesIndependentComputationOverShapeSweep) {
  std::mt19937 rng(7);
  for (Case c : sweep()) {
    c.out_c_or_mult = c.out_c_or_mult % 3 == 0 ? 2 : 1;  // depth multipliers 1 and 2
    Fixture f = make_fixture(c, /*depthwise=*/true, rng);
    const ConvGeometry& g = f.g;
    std::vector<std::int8_t> got(static_cast<std::size_t>(g.batches) * g.out_h * g.out_w * g.out_c);
    reference::depthwise_conv2d(g, f.rq, f.input.v.data(), f.filter.data(), f.bias.data(), got.data());
    const Tensor4 padded = pad_with_zero_point(f.input, g.pad_top, g.pad_left, f.pad_bottom, f.pad_right,
                                               static_cast<std::int8_t>(-f.rq.input_offset));
    std::size_t i = 0, wrong = 0;
    for (int b = 0; b < g.batches; ++b)
      for (int oy = 0; oy < g.out_h; ++oy)
        for (int ox = 0; ox < g.out_w; ++ox)
          for (int oc = 0; oc < g.out_c; ++oc, ++i) {
            const int ic = oc / g.depth_multiplier;
            std::int64_t acc = 0;
            for (int fy = 0; fy < g.filter_h; ++fy)
              for (int fx = 0; fx < g.filter_w; ++fx) {
                const int x =
                    padded.at(b, oy * g.stride_h + fy * g.dilation_h, ox * g.stride_w + fx * g.dilation_w, ic);
                const int w = f.filter[(static_cast<std::size_t>(fy) * g.filter_w + fx) * g.out_c + oc];
                acc += static_cast<std::int64_t>(x + f.rq.input_offset) * w;
              }
            wrong += got[i] != finish(acc, f.bias[oc], f.rq, oc);
          }
    EXPECT_EQ(wrong, 0u) << describe(c);
  }
}

TEST(ReferenceAveragePool2D, MatchesIndependentComputationAndRoundsHalfAway) {
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> byte(-128, 127);
  for (Padding p : {Padding::kSame, Padding::kValid})
    for (int k : {1, 2, 3, 4})
      for (int stride : {1, 2, 4})
        for (int size : {4, 5, 9}) {
          if (p == Padding::kValid && k > size) continue;
          PoolGeometry g;
          g.in_h = g.in_w = size;
          g.channels = 13;
          g.filter_h = g.filter_w = k;
          g.stride_h = g.stride_w = stride;
          g.out_h = g.out_w = output_size(p, size, k, stride, 1);
          g.pad_top = g.pad_left = padding_before(p, size, g.out_h, k, stride, 1);
          g.act_min = -100;
          g.act_max = 120;
          std::vector<std::int8_t> in(static_cast<std::size_t>(size) * size * g.channels),
              got(static_cast<std::size_t>(g.out_h) * g.out_w * g.channels);
          for (auto& x : in) x = static_cast<std::int8_t>(byte(rng));
          reference::average_pool2d(g, in.data(), got.data());
          std::size_t i = 0, wrong = 0;
          for (int oy = 0; oy < g.out_h; ++oy)
            for (int ox = 0; ox < g.out_w; ++ox)
              for (int c = 0; c < g.channels; ++c, ++i) {
                long long sum = 0, count = 0;
                for (int y = oy * stride - g.pad_top; y < oy * stride - g.pad_top + k; ++y)
                  for (int x = ox * stride - g.pad_left; x < ox * stride - g.pad_left + k; ++x)
                    if (y >= 0 && y < size && x >= 0 && x < size) {
                      sum += in[(static_cast<std::size_t>(y) * size + x) * g.channels + c];
                      ++count;
                    }
                // Round half away from zero with exact rational arithmetic.
                const long long twice = 2 * sum, mag = (std::llabs(twice) + count) / (2 * count);
                long long avg = twice < 0 ? -mag : mag;
                avg = std::max<long long>(g.act_min, std::min<long long>(g.act_max, avg));
                wrong += got[i] != avg;
              }
          EXPECT_EQ(wrong, 0u) << "k" << k << " s" << stride << " size " << size;
        }
}

TEST(ReferenceAveragePool2D, TiesRoundAwayFromZero) {
  PoolGeometry g;
  g.in_h = 1;
  g.in_w = 2;
  g.channels = 1;
  g.out_h = 1;
  g.out_w = 1;
  g.filter_h = 1;
  g.filter_w = 2;
  std::int8_t out = 0;
  const std::int8_t pos[2] = {1, 2}, neg[2] = {-1, -2};
  reference::average_pool2d(g, pos, &out);
  EXPECT_EQ(out, 2);  // 1.5 → 2
  reference::average_pool2d(g, neg, &out);
  EXPECT_EQ(out, -2);  // −1.5 → −2
}

// --- FULLY_CONNECTED ---------------------------------------------------------------------------

TEST(ReferenceFullyConnected, MatchesIndependentComputation) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> byte(-128, 127);
  std::uniform_int_distribution<std::int32_t> bias_value(-40000, 40000);
  std::uniform_real_distribution<double> mult(-14.0, 0.5);
  struct Shape3 {
    int batches, depth, units;
  };
  for (const Shape3 s : {Shape3{1, 1, 1}, Shape3{1, 8, 4}, Shape3{2, 17, 3}, Shape3{3, 64, 12}, Shape3{1, 250, 35}}) {
    for (bool per_channel : {false, true}) {
      for (bool with_bias : {false, true}) {
        Requantization rq;
        rq.input_offset = -byte(rng);
        rq.output_offset = byte(rng);
        rq.act_min = with_bias ? -128 : rq.output_offset;
        rq.act_max = 127;
        std::vector<std::int8_t> x(static_cast<std::size_t>(s.batches) * s.depth),
            w(static_cast<std::size_t>(s.units) * s.depth);
        for (auto& v : x) v = static_cast<std::int8_t>(byte(rng));
        for (auto& v : w) v = static_cast<std::int8_t>(byte(rng));
        std::vector<std::int32_t> bias, multipliers, shifts;
        for (int u = 0; u < s.units; ++u) {
          bias.push_back(bias_value(rng));
          std::int32_t q = 0;
          int sh = 0;
          quant::quantize_multiplier(std::exp2(mult(rng)), &q, &sh);
          multipliers.push_back(per_channel || u == 0 ? q : multipliers[0]);  // per-tensor: one value repeated
          shifts.push_back(per_channel || u == 0 ? sh : shifts[0]);
        }
        rq.multipliers = multipliers.data();
        rq.shifts = shifts.data();
        std::vector<std::int8_t> got(static_cast<std::size_t>(s.batches) * s.units);
        reference::fully_connected(s.batches, s.depth, s.units, rq, x.data(), w.data(),
                                   with_bias ? bias.data() : nullptr, got.data());
        std::size_t wrong = 0;
        for (int b = 0; b < s.batches; ++b)
          for (int u = 0; u < s.units; ++u) {
            std::int64_t acc = 0;
            for (int d = 0; d < s.depth; ++d)
              acc += (static_cast<std::int64_t>(x[static_cast<std::size_t>(b) * s.depth + d]) + rq.input_offset) *
                     w[static_cast<std::size_t>(u) * s.depth + d];
            wrong += got[static_cast<std::size_t>(b) * s.units + u] !=
                     finish(acc, with_bias ? bias[static_cast<std::size_t>(u)] : 0, rq, u);
          }
        EXPECT_EQ(wrong, 0u) << s.batches << "x" << s.depth << " -> " << s.units << (per_channel ? " per-channel" : "");
      }
    }
  }
}

// --- ADD ---------------------------------------------------------------------------------------

// x·m / 2^31 rounded half up, then / 2^n rounded half away from zero: TFLite's
// MultiplyByQuantizedMultiplierSmallerThanOneExp written on int64 from its definition.
std::int64_t scale_below_one(std::int64_t x, std::int32_t m, int shift) {
  const std::int64_t p = x * m + (std::int64_t{1} << 30);
  const std::int64_t high = p >= 0 ? p >> 31 : -((-p + (std::int64_t{1} << 31) - 1) >> 31);
  const std::int64_t den = std::int64_t{1} << -shift;
  const std::int64_t mag = (std::llabs(high) * 2 + den) / (2 * den);
  return high < 0 ? -mag : mag;
}

TEST(ReferenceAdd, MatchesIndependentComputationOfTfliteArithmetic) {
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> byte(-128, 127);
  std::uniform_real_distribution<double> log_scale(-9.0, -1.0);
  for (int trial = 0; trial < 200; ++trial) {
    const float s1 = static_cast<float>(std::exp2(log_scale(rng)));
    const float s2 = trial % 5 == 0 ? s1 : static_cast<float>(std::exp2(log_scale(rng)));
    const float so = static_cast<float>(std::exp2(log_scale(rng) + 1.0));
    const int zp1 = byte(rng), zp2 = trial % 7 == 0 ? -128 : byte(rng), zpo = byte(rng);
    // TFLite's add.cc Prepare for int8.
    const double twice_max = 2.0 * std::max<double>(s1, s2);
    const double real_out = twice_max / (1048576.0 * so);
    if (real_out >= 0.99) continue;  // refused at load
    AddParams p;
    p.input1_offset = -zp1;
    p.input2_offset = -zp2;
    p.output_offset = zpo;
    p.left_shift = 20;
    quant::quantize_multiplier(s1 / twice_max, &p.input1_multiplier, &p.input1_shift);
    quant::quantize_multiplier(s2 / twice_max, &p.input2_multiplier, &p.input2_shift);
    quant::quantize_multiplier(real_out, &p.output_multiplier, &p.output_shift);
    quant::activation_range(trial % 3 == 0 ? Activation::kRelu : Activation::kNone, so, zpo, &p.act_min, &p.act_max);
    std::vector<std::int8_t> a(257), b(257), got(257);
    for (std::size_t i = 0; i < a.size(); ++i) {
      a[i] = static_cast<std::int8_t>(i < 4 ? (i % 2 ? 127 : -128) : byte(rng));
      b[i] = static_cast<std::int8_t>(i < 4 ? (i / 2 ? 127 : -128) : byte(rng));
    }
    reference::add(p, a.size(), a.data(), b.data(), got.data());
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
      const std::int64_t x1 = (static_cast<std::int64_t>(a[i]) - zp1) * 1048576,
                         x2 = (static_cast<std::int64_t>(b[i]) - zp2) * 1048576;
      const std::int64_t sum = scale_below_one(x1, p.input1_multiplier, p.input1_shift) +
                               scale_below_one(x2, p.input2_multiplier, p.input2_shift);
      std::int64_t v = scale_below_one(sum, p.output_multiplier, p.output_shift) + zpo;
      v = std::max<std::int64_t>(p.act_min, std::min<std::int64_t>(p.act_max, v));
      wrong += got[i] != v;
    }
    EXPECT_EQ(wrong, 0u) << "trial " << trial << " scales " << s1 << " " << s2 << " -> " << so;
  }
}

TEST(ReferenceAdd, RealValuesAddUpToRounding) {
  // Sanity against the real numbers: with equal scales and zero points 0, the sum is exact.
  AddParams p;
  const double twice_max = 2.0 * 0.05;
  quant::quantize_multiplier(0.05 / twice_max, &p.input1_multiplier, &p.input1_shift);
  quant::quantize_multiplier(0.05 / twice_max, &p.input2_multiplier, &p.input2_shift);
  quant::quantize_multiplier(twice_max / (1048576.0 * 0.1), &p.output_multiplier, &p.output_shift);
  const std::int8_t a[4] = {10, -10, 100, -128}, b[4] = {20, 4, 100, -128};
  std::int8_t y[4];
  reference::add(p, 4, a, b, y);
  EXPECT_EQ(y[0], 15);  // (10 + 20)·0.05 / 0.1
  EXPECT_EQ(y[1], -3);  // −0.3 / 0.1 = −3
  EXPECT_EQ(y[2], 100);
  EXPECT_EQ(y[3], -128);
}

}  // namespace
}  // namespace micronet_ad::kernels
