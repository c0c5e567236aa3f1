// An independent evaluation of a test ModelSpec (docs/arithmetic.md): every operator written as
// plain loops over the spec's own tensors with int64 accumulators, sharing no code with the
// engine's kernels, validation or preparation. Returns every tensor's values, so that a test can
// compare each intermediate tensor, not only the output.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "core/model_builder.h"
#include "quant/quantization.h"

namespace micronet_ad::test {

inline std::int8_t oracle_i8(const TensorSpec& t, std::size_t i) { return static_cast<std::int8_t>(t.data[i]); }

inline std::int32_t oracle_i32(const TensorSpec& t, std::size_t i) {
  std::int32_t v;
  std::memcpy(&v, t.data.data() + 4 * i, 4);
  return v;
}

struct OracleRange {
  std::int64_t lo = -128, hi = 127;
};

inline OracleRange oracle_activation_range(fb::ActivationFunctionType act, const TensorSpec& out) {
  const float s = out.scales[0];
  const std::int64_t zp = out.zero_points[0];
  OracleRange r;
  const auto q = [&](float real) { return zp + static_cast<std::int64_t>(std::round(real / s)); };
  if (act == fb::ActivationFunctionType_RELU) r.lo = std::max<std::int64_t>(-128, q(0.0f));
  if (act == fb::ActivationFunctionType_RELU6) {
    r.lo = std::max<std::int64_t>(-128, q(0.0f));
    r.hi = std::min<std::int64_t>(127, q(6.0f));
  }
  if (act == fb::ActivationFunctionType_RELU_N1_TO_1) {
    r.lo = std::max<std::int64_t>(-128, q(-1.0f));
    r.hi = std::min<std::int64_t>(127, q(1.0f));
  }
  return r;
}

// Division rounding half away from zero, and floor division, on int64 (den > 0).
inline std::int64_t oracle_round_half_away(std::int64_t num, std::int64_t den) {
  const std::int64_t mag = (std::llabs(num) * 2 + den) / (2 * den);
  return num < 0 ? -mag : mag;
}
inline std::int64_t oracle_floor_div(std::int64_t num, std::int64_t den) {
  return num >= 0 ? num / den : -((-num + den - 1) / den);
}

// TFLite's MultiplyByQuantizedMultiplier for a multiplier below one (shift ≤ 0), written from its
// definition: x·m / 2^31 rounded half up (gemmlowp's SaturatingRoundingDoublingHighMul), then
// divided by 2^−shift rounding half away from zero (RoundingDivideByPOT).
inline std::int64_t oracle_scale_below_one(std::int64_t x, std::int32_t m, int shift) {
  EXPECT_LE(shift, 0);
  const std::int64_t high = oracle_floor_div(x * m + (std::int64_t{1} << 30), std::int64_t{1} << 31);
  return oracle_round_half_away(high, std::int64_t{1} << -shift);
}

inline std::int8_t oracle_requantize(std::int64_t acc, float in_scale, float w_scale, const TensorSpec& out,
                                     OracleRange r) {
  EXPECT_TRUE(acc >= INT32_MIN && acc <= INT32_MAX) << "the test model's accumulator left int32: " << acc;
  std::int32_t significand = 0;
  int shift = 0;
  quant::quantize_multiplier(
      static_cast<double>(in_scale) * static_cast<double>(w_scale) / static_cast<double>(out.scales[0]), &significand,
      &shift);
  std::int64_t v = shift <= 0
                       ? oracle_scale_below_one(acc, significand, shift)
                       : quant::multiply_by_quantized_multiplier(static_cast<std::int32_t>(acc), significand, shift);
  v += out.zero_points[0];
  return static_cast<std::int8_t>(std::clamp(v, r.lo, r.hi));
}

inline int oracle_same_padding(int in, int out, int filter, int stride) {
  return std::max((out - 1) * stride + filter - in, 0) / 2;
}

// TFLite's int8 ADD (add.cc Prepare, reference/integer_ops/add.h) from the scales.
inline std::vector<std::int8_t> oracle_add(const TensorSpec& A, const std::vector<std::int8_t>& a, const TensorSpec& B,
                                           const std::vector<std::int8_t>& b, const TensorSpec& Y, OracleRange r) {
  const double twice_max = 2.0 * std::max<double>(A.scales[0], B.scales[0]);
  std::int32_t ma = 0, mb = 0, my = 0;
  int sa = 0, sb = 0, sy = 0;
  quant::quantize_multiplier(A.scales[0] / twice_max, &ma, &sa);
  quant::quantize_multiplier(B.scales[0] / twice_max, &mb, &sb);
  quant::quantize_multiplier(twice_max / (1048576.0 * Y.scales[0]), &my, &sy);
  std::vector<std::int8_t> y(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::int64_t xa = (a[i] - A.zero_points[0]) * 1048576, xb = (b[i] - B.zero_points[0]) * 1048576;
    const std::int64_t sum = oracle_scale_below_one(xa, ma, sa) + oracle_scale_below_one(xb, mb, sb);
    const std::int64_t v = oracle_scale_below_one(sum, my, sy) + Y.zero_points[0];
    y[i] = static_cast<std::int8_t>(std::clamp(v, r.lo, r.hi));
  }
  return y;
}

// Evaluates the spec's operators in order; returns the values of every tensor (empty for constants).
inline std::vector<std::vector<std::int8_t>> oracle_forward(const ModelSpec& m, const std::vector<std::int8_t>& input) {
  std::vector<std::vector<std::int8_t>> values(m.tensors.size());
  values[static_cast<std::size_t>(m.inputs[0])] = input;
  for (const OpSpec& op : m.ops) {
    const TensorSpec& X = m.tensors[static_cast<std::size_t>(op.inputs[0])];
    const TensorSpec& Y = m.tensors[static_cast<std::size_t>(op.outputs[0])];
    const std::vector<std::int8_t>& x = values[static_cast<std::size_t>(op.inputs[0])];
    std::vector<std::int8_t>& y = values[static_cast<std::size_t>(op.outputs[0])];
    const OracleRange range = oracle_activation_range(op.activation, Y);
    const std::int64_t x_zp = X.zero_points[0];
    if (op.builtin_code == kBuiltinReshape) {
      y = x;
      continue;
    }
    if (op.builtin_code == kBuiltinAdd) {
      const TensorSpec& X2 = m.tensors[static_cast<std::size_t>(op.inputs[1])];
      y = oracle_add(X, x, X2, values[static_cast<std::size_t>(op.inputs[1])], Y, range);
      continue;
    }
    if (op.builtin_code == kBuiltinFullyConnected) {
      const TensorSpec& F = m.tensors[static_cast<std::size_t>(op.inputs[1])];
      const TensorSpec* Bt =
          op.inputs.size() > 2 && op.inputs[2] >= 0 ? &m.tensors[static_cast<std::size_t>(op.inputs[2])] : nullptr;
      const int units = F.shape[0], depth = F.shape[1];
      const int batches = static_cast<int>(x.size()) / depth;
      y.assign(static_cast<std::size_t>(batches) * units, 0);
      for (int bt = 0; bt < batches; ++bt)
        for (int u = 0; u < units; ++u) {
          std::int64_t acc = 0;
          for (int d = 0; d < depth; ++d)
            acc += (x[static_cast<std::size_t>(bt) * depth + d] - x_zp) *
                   oracle_i8(F, static_cast<std::size_t>(u) * depth + d);
          if (Bt != nullptr) acc += oracle_i32(*Bt, static_cast<std::size_t>(u));
          const float w_scale = F.scales.size() == 1 ? F.scales[0] : F.scales[static_cast<std::size_t>(u)];
          y[static_cast<std::size_t>(bt) * units + u] = oracle_requantize(acc, X.scales[0], w_scale, Y, range);
        }
      continue;
    }
    const int H = X.shape[1], W = X.shape[2], C = X.shape[3];
    const int OH = Y.shape[1], OW = Y.shape[2], OC = Y.shape[3];
    y.assign(static_cast<std::size_t>(OH) * OW * OC, 0);
    const auto at = [&](int iy, int ix, int c) { return x[(static_cast<std::size_t>(iy) * W + ix) * C + c]; };
    if (op.builtin_code == kBuiltinAveragePool2D) {
      const int pt = op.padding == fb::Padding_SAME ? oracle_same_padding(H, OH, op.filter_h, op.stride_h) : 0;
      const int pl = op.padding == fb::Padding_SAME ? oracle_same_padding(W, OW, op.filter_w, op.stride_w) : 0;
      for (int oy = 0; oy < OH; ++oy)
        for (int ox = 0; ox < OW; ++ox)
          for (int c = 0; c < C; ++c) {
            std::int64_t sum = 0, count = 0;
            for (int ky = 0; ky < op.filter_h; ++ky)
              for (int kx = 0; kx < op.filter_w; ++kx) {
                const int iy = oy * op.stride_h - pt + ky, ix = ox * op.stride_w - pl + kx;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                sum += at(iy, ix, c);
                ++count;
              }
            const std::int64_t avg = oracle_round_half_away(sum, count);
            y[(static_cast<std::size_t>(oy) * OW + ox) * OC + c] =
                static_cast<std::int8_t>(std::clamp(avg, range.lo, range.hi));
          }
      continue;
    }
    const bool depthwise = op.builtin_code == kBuiltinDepthwiseConv2D;
    const TensorSpec& F = m.tensors[static_cast<std::size_t>(op.inputs[1])];
    const TensorSpec* Bt =
        op.inputs.size() > 2 && op.inputs[2] >= 0 ? &m.tensors[static_cast<std::size_t>(op.inputs[2])] : nullptr;
    const int KH = F.shape[1], KW = F.shape[2];
    const int DH = op.dilation_h, DW = op.dilation_w;
    const int pt = op.padding == fb::Padding_SAME ? oracle_same_padding(H, OH, (KH - 1) * DH + 1, op.stride_h) : 0;
    const int pl = op.padding == fb::Padding_SAME ? oracle_same_padding(W, OW, (KW - 1) * DW + 1, op.stride_w) : 0;
    const int multiplier = depthwise ? OC / C : 1;
    for (int oy = 0; oy < OH; ++oy)
      for (int ox = 0; ox < OW; ++ox)
        for (int oc = 0; oc < OC; ++oc) {
          std::int64_t acc = 0;
          for (int ky = 0; ky < KH; ++ky)
            for (int kx = 0; kx < KW; ++kx) {
              const int iy = oy * op.stride_h - pt + ky * DH, ix = ox * op.stride_w - pl + kx * DW;
              if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;  // padding is x_zp: adds 0
              if (depthwise) {
                acc += (at(iy, ix, oc / multiplier) - x_zp) *
                       oracle_i8(F, (static_cast<std::size_t>(ky) * KW + kx) * OC + oc);
              } else {
                for (int ic = 0; ic < C; ++ic)
                  acc += (at(iy, ix, ic) - x_zp) *
                         oracle_i8(F, ((static_cast<std::size_t>(oc) * KH + ky) * KW + kx) * C + ic);
              }
            }
          if (Bt != nullptr) acc += oracle_i32(*Bt, static_cast<std::size_t>(oc));
          const float w_scale = F.scales.size() == 1 ? F.scales[0] : F.scales[static_cast<std::size_t>(oc)];
          y[(static_cast<std::size_t>(oy) * OW + ox) * OC + oc] =
              oracle_requantize(acc, X.scales[0], w_scale, Y, range);
        }
  }
  return values;
}

}  // namespace micronet_ad::test
