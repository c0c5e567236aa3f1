// Band fusion (InterpreterOptions::band_fusion): convolution pairs run in row bands must give the
// same bytes as layer-at-a-time execution, through every kernel set, in a smaller arena. Checked on
// the golden vectors of the three models, against the unfused interpreter layer by layer, and on
// small synthetic pairs covering strides, padding, filter sizes, dilation and clipped last bands.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "core/model_builder.h"
#include "host/io/model_file.h"
#include "micronet_ad/interpreter.h"
#include "plan/arena_planner.h"
#include "plan/band_fusion.h"
#include "support/test_data.h"

namespace micronet_ad {
namespace {

constexpr KernelSet kSets[] = {KernelSet::kReference, KernelSet::kAvx2, KernelSet::kAvxVnni, KernelSet::kAvx512Vnni};

#define SKIP_IF_UNSUPPORTED(set)               \
  if (!Interpreter::kernel_set_supported(set)) \
  GTEST_SKIP() << "this CPU (or build) lacks " << kernel_set_name(set) << ": not tested here"

// An Interpreter with its own memory, fused or not.
struct Runner {
  Runner(const Model& model, KernelSet set, bool band_fusion) {
    InterpreterOptions options;
    options.kernels = set;
    options.band_fusion = band_fusion;
    memory.resize(Interpreter::required_memory(model, options));
    status = interpreter.init(model, memory.data(), memory.size(), options);
  }
  std::vector<std::uint8_t> memory;
  Interpreter interpreter;
  Status status = Status::Ok();
};

// Every op's output as the observer saw it; empty for ops it was not called for.
using Layers = std::vector<std::vector<std::int8_t>>;
void capture(void* context, int op, const TensorInfo& out, const std::int8_t* data) {
  (*static_cast<Layers*>(context))[static_cast<std::size_t>(op)].assign(data, data + out.bytes);
}

// Runs `input` through both and compares every layer: the fused run must skip exactly the first
// op of each pair and match the unfused one everywhere else.
void expect_layers_equal(const Model& model, Runner& fused, Runner& unfused, const std::int8_t* input,
                         const std::string& label) {
  Layers got(static_cast<std::size_t>(model.num_operators())), want(got.size());
  fused.interpreter.set_observer(capture, &got);
  unfused.interpreter.set_observer(capture, &want);
  std::copy_n(input, fused.interpreter.input_bytes(), fused.interpreter.input());
  std::copy_n(input, unfused.interpreter.input_bytes(), unfused.interpreter.input());
  ASSERT_TRUE(fused.interpreter.invoke().ok());
  ASSERT_TRUE(unfused.interpreter.invoke().ok());
  plan::BandFusion fusion;
  ASSERT_TRUE(plan::plan_band_fusion(model, &fusion, nullptr).ok());
  for (int op = 0; op < model.num_operators(); ++op) {
    const bool first_of_pair = op + 1 < model.num_operators() && fusion.band_rows[op + 1] > 0;
    if (first_of_pair) {
      EXPECT_TRUE(got[op].empty()) << label << ": op " << op << " runs inside op " << op + 1 << ", yet was observed";
    } else {
      ASSERT_FALSE(want[op].empty()) << label << " op " << op;
      EXPECT_EQ(got[op], want[op]) << label << ": op " << op << (fusion.band_rows[op] > 0 ? " (banded)" : "");
    }
  }
  fused.interpreter.set_observer(nullptr, nullptr);
  unfused.interpreter.set_observer(nullptr, nullptr);
}

// --- The three models: golden vectors through each kernel set ------------------------------------

constexpr int kGoldenInputs = 256;
constexpr int kInputBytes = 1024;
constexpr int kOutputBytes = 8;

#if !defined(__SANITIZE_ADDRESS__)
double microseconds_per_inference(Runner& r, const std::vector<std::int8_t>& inputs, int count) {
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < count; ++i) {
    std::copy_n(inputs.data() + i * kInputBytes, kInputBytes, r.interpreter.input());
    r.interpreter.invoke();
  }
  const auto t1 = std::chrono::steady_clock::now();
  return std::chrono::duration<double, std::micro>(t1 - t0).count() / count;
}
#endif

class BandFusionGolden : public ::testing::TestWithParam<std::tuple<const char*, KernelSet>> {};

TEST_P(BandFusionGolden, OutputsEqualTfliteMicroAndLayersEqualUnfused) {
  const std::string name = std::get<0>(GetParam());
  const KernelSet set = std::get<1>(GetParam());
  SKIP_IF_UNSUPPORTED(set);
  const auto file = host::load_model_file(test::model_path(name));
  const Model& model = file->model;
  Runner fused(model, set, true), unfused(model, set, false);
  ASSERT_TRUE(fused.status.ok()) << fused.status.message();
  ASSERT_TRUE(unfused.status.ok()) << unfused.status.message();
  ASSERT_GT(fused.interpreter.fused_pairs(), 0) << name << ": no pair fused, nothing tested";
  EXPECT_EQ(unfused.interpreter.fused_pairs(), 0);
  const auto inputs = test::shared_int8("golden/engine/inputs_256x1024.i8");
  const auto expected = test::shared_int8("golden/engine/ad_" + name + "_outputs_256x8.i8");
  ASSERT_EQ(inputs.size(), static_cast<std::size_t>(kGoldenInputs * kInputBytes));
  ASSERT_EQ(expected.size(), static_cast<std::size_t>(kGoldenInputs * kOutputBytes));
  // The reference kernels are slow (ad_large ~45 ms per inference, ~10x under ASan): a sample.
  const int count = set == KernelSet::kReference ? 24 : kGoldenInputs;
  int mismatched = 0;
  for (int i = 0; i < count; ++i) {
    std::copy_n(inputs.data() + i * kInputBytes, kInputBytes, fused.interpreter.input());
    ASSERT_TRUE(fused.interpreter.invoke().ok());
    if (std::memcmp(fused.interpreter.output(), expected.data() + i * kOutputBytes, kOutputBytes) != 0) {
      ADD_FAILURE() << name << " " << kernel_set_name(set) << " band-fused: input " << i
                    << " differs from TFLite Micro";
      if (++mismatched > 5) break;
    }
  }
  for (int i = 0; i < 2; ++i) expect_layers_equal(model, fused, unfused, inputs.data() + i * kInputBytes, name);

    // Printed, not asserted: what the smaller arena costs in time. Meaningless under sanitizers.
#if !defined(__SANITIZE_ADDRESS__)
  const int timed = std::min(count, 64);
  const double t_unfused = microseconds_per_inference(unfused, inputs, timed);
  const double t_fused = microseconds_per_inference(fused, inputs, timed);
  std::printf(
      "[ timing   ] ad_%s %s: %.1f us/inference band-fused (%d pairs, arena %zu B), %.1f unfused (arena %zu B)\n",
      name.c_str(), kernel_set_name(set), t_fused, fused.interpreter.fused_pairs(),
      Interpreter::arena_bytes(model, true), t_unfused, model.arena_bytes());
#endif
}

INSTANTIATE_TEST_SUITE_P(ModelsAndSets, BandFusionGolden,
                         ::testing::Combine(::testing::Values("small", "medium", "large"), ::testing::ValuesIn(kSets)),
                         [](const ::testing::TestParamInfo<std::tuple<const char*, KernelSet>>& info) {
                           return std::string(std::get<0>(info.param)) + "_" + kernel_set_name(std::get<1>(info.param));
                         });

// --- Arena -----------------------------------------------------------------------------------------

class BandFusionArena : public ::testing::TestWithParam<const char*> {};

// The fused arena is below the layer-at-a-time one, and is what the planner makes of the model's
// lifetimes with each fused tensor shrunk to its band and A's input kept alive through B,
// recomputed here from the pairs chosen.
TEST_P(BandFusionArena, BelowLayerAtATimeBoundAndEqualToThePlannersFigure) {
  const std::string name = GetParam();
  const auto file = host::load_model_file(test::model_path(name));
  const Model& model = file->model;
  plan::BandFusion fusion;
  std::int32_t offsets[kMaxTensors];
  ASSERT_TRUE(plan::plan_band_fusion(model, &fusion, offsets).ok());
  ASSERT_GT(fusion.num_pairs, 0);

  std::vector<TensorPlan> plans;
  for (int t = 0; t < model.num_tensors(); ++t) plans.push_back(model.plan(t));
  int pairs = 0;
  for (int b = 1; b < model.num_operators(); ++b) {
    if (fusion.band_rows[b] == 0) continue;
    ++pairs;
    const OperatorInfo& a = model.op(b - 1);
    ASSERT_EQ(model.op(b).inputs[0], a.output);
    EXPECT_EQ(fusion.band_rows[b], (model.op(b).filter_h - 1) * model.op(b).dilation_h + 1);
    EXPECT_EQ(fusion.band_rows[b - 1], 0) << "op " << b - 1 << " in two pairs";
    const Shape& t = model.tensor(a.output).shape;
    plans[a.output].size = fusion.band_rows[b] * t.dims[2] * t.dims[3];
    plans[a.inputs[0]].last_op = std::max<std::int16_t>(plans[a.inputs[0]].last_op, static_cast<std::int16_t>(b));
  }
  EXPECT_EQ(pairs, fusion.num_pairs);
  std::size_t arena = 0, bound = 0;
  ASSERT_TRUE(
      plan::plan_arena(plans.data(), static_cast<int>(plans.size()), model.num_operators(), &arena, &bound).ok());
  EXPECT_EQ(fusion.arena_bytes, arena);
  EXPECT_EQ(fusion.lower_bound, bound);
  for (int t = 0; t < model.num_tensors(); ++t) EXPECT_EQ(offsets[t], plans[t].arena_offset) << "tensor " << t;
  EXPECT_EQ(Interpreter::arena_bytes(model, true), arena);
  EXPECT_EQ(Interpreter::arena_bytes(model, false), model.arena_bytes());
  EXPECT_LT(arena, model.arena_lower_bound());
  EXPECT_LE(bound, arena);

  // Only the arena changes in the interpreter's memory (reference layout: 16-byte pieces).
  InterpreterOptions options;
  options.kernels = KernelSet::kReference;
  const std::size_t unfused = Interpreter::required_memory(model, options);
  options.band_fusion = true;
  EXPECT_EQ(Interpreter::required_memory(model, options), unfused - (model.arena_bytes() - arena));
  std::printf("[ arena    ] ad_%s: %zu B layer-at-a-time (bound %zu), %zu B band-fused (%d pairs, live bound %zu)\n",
              name.c_str(), model.arena_bytes(), model.arena_lower_bound(), arena, pairs, bound);
}

INSTANTIATE_TEST_SUITE_P(Models, BandFusionArena, ::testing::Values("small", "medium", "large"));

TEST(BandFusionApi, OffByDefaultAndTooLittleMemoryIsAnError) {
  const auto file = host::load_model_file(test::model_path("medium"));
  const Model& model = file->model;
  Runner plain(model, KernelSet::kReference, false);
  ASSERT_TRUE(plain.status.ok());
  EXPECT_EQ(plain.interpreter.fused_pairs(), 0);
  EXPECT_EQ(Interpreter::required_memory(model, KernelSet::kReference), plain.memory.size());

  InterpreterOptions options;
  options.kernels = KernelSet::kReference;
  options.band_fusion = true;
  std::vector<std::uint8_t> memory(Interpreter::required_memory(model, options) - 1);
  Interpreter interpreter;
  const Status status = interpreter.init(model, memory.data(), memory.size(), options);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(std::string(status.message()).find("interpreter needs"), std::string::npos) << status.message();
}

// --- Synthetic pairs -------------------------------------------------------------------------------

// input [1,h,w,in_c] → A → T [.., t_c] → B → output. A expands the channels so that fusing pays.
struct PairCase {
  const char* name;
  int h, w;
  int a_builtin, a_filter, a_stride;
  test::fb::Padding a_padding;
  int b_builtin, b_filter, b_stride;
  test::fb::Padding b_padding;
  int b_dilation = 1;
  int a_depth_multiplier = 1;  // A depthwise only
};

using test::fb::Padding_SAME;
using test::fb::Padding_VALID;
constexpr int kConv = test::kBuiltinConv2D, kDw = test::kBuiltinDepthwiseConv2D;

const PairCase kPairCases[] = {
    // MicroNet's opening: 3x3 conv, then a 3x3 stride-2 depthwise; odd heights clip the last band.
    {"conv3s1_dw3s2_same_odd", 9, 8, kConv, 3, 1, Padding_SAME, kDw, 3, 2, Padding_SAME},
    {"conv3s1_dw3s2_same_even", 10, 7, kConv, 3, 1, Padding_SAME, kDw, 3, 2, Padding_SAME},
    {"conv3s2_dw3s1_same", 13, 9, kConv, 3, 2, Padding_SAME, kDw, 3, 1, Padding_SAME},
    {"conv3s2_dw3s2_valid", 17, 11, kConv, 3, 2, Padding_VALID, kDw, 3, 2, Padding_VALID},
    {"conv3s1_conv3s1_valid", 11, 6, kConv, 3, 1, Padding_VALID, kConv, 3, 1, Padding_VALID},
    {"conv3s1_conv3s2_same", 11, 7, kConv, 3, 1, Padding_SAME, kConv, 3, 2, Padding_SAME},
    // Pointwise A (the direct GEMM path) feeding a depthwise; 1x1 B (one-row bands).
    {"conv1_dw3s1_same", 9, 9, kConv, 1, 1, Padding_SAME, kDw, 3, 1, Padding_SAME},
    {"conv1_dw3s2_valid", 12, 5, kConv, 1, 1, Padding_VALID, kDw, 3, 2, Padding_VALID},
    {"dw3s1_conv1", 7, 9, kDw, 3, 1, Padding_SAME, kConv, 1, 1, Padding_SAME},
    {"dw3s2_conv1s2", 15, 8, kDw, 3, 2, Padding_SAME, kConv, 1, 2, Padding_SAME},
    {"conv3s1_conv1s2_valid", 9, 6, kConv, 3, 1, Padding_VALID, kConv, 1, 2, Padding_VALID},
    // Taller B windows: 5x5 (generic depthwise kernels), dilation 2, stride 3.
    {"conv3s1_dw5s1_same", 13, 7, kConv, 3, 1, Padding_SAME, kDw, 5, 1, Padding_SAME},
    {"conv3s1_dw5s2_valid", 14, 9, kConv, 3, 1, Padding_VALID, kDw, 5, 2, Padding_VALID},
    {"conv3s1_dw3d2_same", 13, 8, kConv, 3, 1, Padding_SAME, kDw, 3, 1, Padding_SAME, 2},
    {"conv3s1_conv3d2s2_valid", 15, 9, kConv, 3, 1, Padding_VALID, kConv, 3, 2, Padding_VALID, 2},
    {"conv3s2_dw5s3_same", 23, 10, kConv, 3, 2, Padding_SAME, kDw, 5, 3, Padding_SAME},
    // A depthwise with depth multiplier 2 (the reference kernel, inside any kernel set).
    {"dw3m2_dw3s2_same", 11, 8, kDw, 3, 1, Padding_SAME, kDw, 3, 2, Padding_SAME, 1, 2},
};

int out_size(test::fb::Padding padding, int in, int filter, int stride, int dilation) {
  const int effective = (filter - 1) * dilation + 1;
  return padding == Padding_SAME ? (in + stride - 1) / stride : (in - effective + stride) / stride;
}

// Output scale that keeps a convolution's outputs spread over the int8 range (not all clamped).
float spread_scale(float in_scale, float w_scale, int taps) {
  return in_scale * w_scale * 60.0f * 60.0f * static_cast<float>(std::max(1, taps)) / 300.0f;
}

test::ModelSpec pair_model(const PairCase& c) {
  test::Lcg rng(0xB00Du + static_cast<std::uint32_t>(c.h * 31 + c.w));
  const bool a_dw = c.a_builtin == kDw, b_dw = c.b_builtin == kDw;
  const int t_c = 24;
  const int in_c = a_dw ? t_c / c.a_depth_multiplier : 2;
  const int out_c = b_dw ? t_c : 5;
  const int t_h = out_size(c.a_padding, c.h, c.a_filter, c.a_stride, 1),
            t_w = out_size(c.a_padding, c.w, c.a_filter, c.a_stride, 1);
  const int y_h = out_size(c.b_padding, t_h, c.b_filter, c.b_stride, c.b_dilation);
  const int y_w = out_size(c.b_padding, t_w, c.b_filter, c.b_stride, c.b_dilation);
  const float in_scale = 0.05f, w_scale = 0.004f;
  std::vector<float> a_w(static_cast<std::size_t>(t_c)), b_w(static_cast<std::size_t>(out_c));
  for (int i = 0; i < t_c; ++i) a_w[i] = w_scale * (1.0f + 0.1f * static_cast<float>(i % 5));
  for (int i = 0; i < out_c; ++i) b_w[i] = w_scale * (1.0f + 0.07f * static_cast<float>(i % 4));
  const float t_scale = spread_scale(in_scale, w_scale, c.a_filter * c.a_filter * (a_dw ? 1 : in_c));
  const float y_scale = spread_scale(t_scale, w_scale, c.b_filter * c.b_filter * (b_dw ? 1 : t_c));

  test::ModelSpec m;
  m.tensors.push_back(test::activation("input", {1, c.h, c.w, in_c}, in_scale, -7));
  m.tensors.push_back(a_dw ? test::weights("a/w", {1, c.a_filter, c.a_filter, t_c}, a_w, 3, rng)
                           : test::weights("a/w", {t_c, c.a_filter, c.a_filter, in_c}, a_w, 0, rng));
  m.tensors.push_back(test::bias("a/b", in_scale, a_w, rng));
  m.tensors.push_back(test::activation("t", {1, t_h, t_w, t_c}, t_scale, 11));
  m.tensors.push_back(b_dw ? test::weights("b/w", {1, c.b_filter, c.b_filter, out_c}, b_w, 3, rng)
                           : test::weights("b/w", {out_c, c.b_filter, c.b_filter, t_c}, b_w, 0, rng));
  m.tensors.push_back(test::bias("b/b", t_scale, b_w, rng));
  m.tensors.push_back(test::activation("y", {1, y_h, y_w, out_c}, y_scale, -3));

  test::OpSpec a;
  a.builtin_code = c.a_builtin;
  a.inputs = {0, 1, 2};
  a.outputs = {3};
  a.padding = c.a_padding;
  a.stride_h = a.stride_w = c.a_stride;
  a.depth_multiplier = c.a_depth_multiplier;
  a.activation = test::fb::ActivationFunctionType_RELU;
  test::OpSpec b;
  b.builtin_code = c.b_builtin;
  b.inputs = {3, 4, 5};
  b.outputs = {6};
  b.padding = c.b_padding;
  b.stride_h = b.stride_w = c.b_stride;
  b.dilation_h = b.dilation_w = c.b_dilation;
  b.activation = test::fb::ActivationFunctionType_RELU6;
  // A 1x1 classifier after the pair, as in the MicroNet models: it reads the embedding (y), which
  // must outlive the graph, so the pair's own tensor t is free to become a band.
  const std::vector<float> c_w(2, w_scale);
  m.tensors.push_back(test::weights("c/w", {2, 1, 1, out_c}, c_w, 0, rng));
  m.tensors.push_back(test::bias("c/b", y_scale, c_w, rng));
  m.tensors.push_back(test::activation("z", {1, y_h, y_w, 2}, spread_scale(y_scale, w_scale, out_c), 5));
  test::OpSpec classifier;
  classifier.builtin_code = test::kBuiltinConv2D;
  classifier.inputs = {6, 7, 8};
  classifier.outputs = {9};
  m.ops = {a, b, classifier};
  m.inputs = {0};
  m.outputs = {9};
  return m;
}

class BandFusionPairs : public ::testing::TestWithParam<std::tuple<PairCase, KernelSet>> {};

TEST_P(BandFusionPairs, ByteEqualToLayerAtATime) {
  const PairCase& c = std::get<0>(GetParam());
  const KernelSet set = std::get<1>(GetParam());
  SKIP_IF_UNSUPPORTED(set);
  const test::ModelBytes bytes = test::build_model(pair_model(c));
  Model model;
  const Status loaded = Model::load(bytes.data(), bytes.size(), &model);
  ASSERT_TRUE(loaded.ok()) << loaded.message();
  Runner fused(model, set, true), unfused(model, set, false);
  ASSERT_TRUE(fused.status.ok()) << fused.status.message();
  ASSERT_TRUE(unfused.status.ok()) << unfused.status.message();
  ASSERT_EQ(fused.interpreter.fused_pairs(), 1) << c.name << ": the pair was not fused, nothing tested";
  EXPECT_LT(Interpreter::arena_bytes(model, true), model.arena_bytes());

  test::Lcg rng(7u);
  std::vector<std::int8_t> input(fused.interpreter.input_bytes());
  int distinct = 0;
  for (int run = 0; run < 3; ++run) {
    for (auto& v : input) v = static_cast<std::int8_t>(rng.uniform(-128, 127));
    expect_layers_equal(model, fused, unfused, input.data(), c.name);
    std::vector<bool> seen(256);
    const std::int8_t* y = unfused.interpreter.output();
    for (std::size_t i = 0; i < unfused.interpreter.output_bytes(); ++i) seen[static_cast<std::uint8_t>(y[i])] = true;
    distinct = std::max(distinct, static_cast<int>(std::count(seen.begin(), seen.end(), true)));
  }
  EXPECT_GE(distinct, 8) << c.name << ": outputs nearly constant, the comparison would prove little";
}

INSTANTIATE_TEST_SUITE_P(Shapes, BandFusionPairs,
                         ::testing::Combine(::testing::ValuesIn(kPairCases), ::testing::ValuesIn(kSets)),
                         [](const ::testing::TestParamInfo<std::tuple<PairCase, KernelSet>>& info) {
                           return std::string(std::get<0>(info.param).name) + "_" +
                                  kernel_set_name(std::get<1>(info.param));
                         });

}  // namespace
}  // namespace micronet_ad
