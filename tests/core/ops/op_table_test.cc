// The operator table, the operators added through it (FULLY_CONNECTED, ADD) and a small
// keyword-spotting-style DS-CNN (test::kws_model: conv, depthwise, pointwise, residual ADD,
// average pool, reshape, fully connected) run end to end through the Interpreter at the reference
// level and the best optimized level, with and without band fusion. Every tensor is compared
// with the independent evaluation in core/model_oracle.h.
#include <algorithm>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/model_builder.h"
#include "core/model_oracle.h"
#include "micronet_ad/interpreter.h"
#include "micronet_ad/model.h"
#include "ops/op_table.h"

namespace micronet_ad {
namespace {

using test::ModelSpec;

TEST(OpTable, RowsAreInOpTypeOrderAndFoundByBuiltinCode) {
  int count = 0;
  const ops::OpDef* const* rows = ops::table(&count);
  ASSERT_EQ(count, 6);
  for (int i = 0; i < count; ++i) {
    const ops::OpDef& d = *rows[i];
    EXPECT_EQ(static_cast<int>(d.type), i) << d.name;
    EXPECT_EQ(&ops::def(d.type), &d);
    EXPECT_EQ(ops::find_builtin(d.builtin_code), &d);
    EXPECT_STREQ(op_name(d.type), d.name);
    EXPECT_NE(d.validate, nullptr);
    EXPECT_NE(d.macs, nullptr);
    EXPECT_NE(d.prepare, nullptr);
    EXPECT_NE(d.invoke, nullptr);
    EXPECT_EQ(d.multiplier_count == nullptr, d.fill_multipliers == nullptr) << d.name;
    char supported[128];
    ops::supported_list(supported, sizeof(supported));
    EXPECT_NE(std::string(supported).find(d.name), std::string::npos) << d.name;
  }
  EXPECT_EQ(ops::find_builtin(18), nullptr);  // MUL
  char supported[128];
  ops::supported_list(supported, sizeof(supported));
  EXPECT_STREQ(supported, "CONV_2D, DEPTHWISE_CONV_2D, AVERAGE_POOL_2D, RESHAPE, FULLY_CONNECTED and ADD");
  EXPECT_STREQ(op_name(OpType::kFullyConnected), "FULLY_CONNECTED");
  EXPECT_STREQ(op_name(OpType::kAdd), "ADD");
}

TEST(KwsModel, LoadsWithTheExpectedOperatorsAndMacs) {
  const test::ModelBytes bytes = test::build_model(test::kws_model());
  Model model;
  const Status s = Model::load(bytes.data(), bytes.size(), &model);
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_EQ(model.num_operators(), test::kNumKwsOps);
  EXPECT_EQ(model.op(test::kKwsOpAdd).type, OpType::kAdd);
  EXPECT_EQ(model.op(test::kKwsOpAdd).activation, Activation::kRelu);
  EXPECT_EQ(model.op(test::kKwsOpFc).type, OpType::kFullyConnected);
  EXPECT_EQ(model.op(test::kKwsOpConv0).macs, 8 * 4 * 8 * 9);
  EXPECT_EQ(model.op(test::kKwsOpDw).macs, 8 * 4 * 8 * 9);
  EXPECT_EQ(model.op(test::kKwsOpPw).macs, 8 * 4 * 8 * 8);
  EXPECT_EQ(model.op(test::kKwsOpAdd).macs, 0);
  EXPECT_EQ(model.op(test::kKwsOpFc).macs, 4 * 8);
  EXPECT_EQ(model.total_macs(), 2304 + 2304 + 2048 + 32);
  // FULLY_CONNECTED's weights and bias are parameters: 72+8+72+8+64+8+32+4 elements.
  EXPECT_EQ(model.parameter_count(), 72u + 8 + 72 + 8 + 64 + 8 + 32 + 4);
  EXPECT_TRUE(op_traits(OpType::kFullyConnected).weights);
  EXPECT_FALSE(op_traits(OpType::kAdd).window);
  // The residual source (conv0's output) stays alive until ADD reads it.
  EXPECT_EQ(model.plan(test::kKwsConv0Out).last_op, test::kKwsOpAdd);
}

struct Captured {
  std::vector<std::vector<std::int8_t>> outputs;  // per op; empty when not observed
};

void capture(void* context, int op_index, const TensorInfo& output, const std::int8_t* data) {
  auto* c = static_cast<Captured*>(context);
  c->outputs[static_cast<std::size_t>(op_index)].assign(data, data + output.bytes);
}

void run_against_oracle(const ModelSpec& spec, KernelSet set, bool band_fusion) {
  const test::ModelBytes bytes = test::build_model(spec);
  Model model;
  const Status loaded = Model::load(bytes.data(), bytes.size(), &model);
  ASSERT_TRUE(loaded.ok()) << loaded.message();
  InterpreterOptions options;
  options.kernels = set;
  options.band_fusion = band_fusion;
  std::vector<std::uint8_t> memory(Interpreter::required_memory(model, options));
  Interpreter interpreter;
  const Status init = interpreter.init(model, memory.data(), memory.size(), options);
  ASSERT_TRUE(init.ok()) << init.message();
  Captured captured;
  captured.outputs.resize(spec.ops.size());
  interpreter.set_observer(capture, &captured);
  test::Lcg rng(99);
  std::vector<std::set<int>> distinct(spec.ops.size());  // values each op produced, over all trials
  for (int trial = 0; trial < 12; ++trial) {
    std::vector<std::int8_t> input(interpreter.input_bytes());
    for (auto& v : input) v = static_cast<std::int8_t>(trial == 0 ? -128 : trial == 1 ? 127 : rng.uniform(-128, 127));
    for (auto& o : captured.outputs) o.clear();
    std::copy(input.begin(), input.end(), interpreter.input());
    const Status s = interpreter.invoke();
    ASSERT_TRUE(s.ok()) << s.message();
    const auto want = test::oracle_forward(spec, input);
    int observed = 0;
    for (std::size_t i = 0; i < spec.ops.size(); ++i) {
      if (captured.outputs[i].empty()) continue;  // the first op of a band-fused pair
      ++observed;
      distinct[i].insert(captured.outputs[i].begin(), captured.outputs[i].end());
      EXPECT_EQ(captured.outputs[i], want[static_cast<std::size_t>(spec.ops[i].outputs[0])])
          << "op " << i << " (" << op_name(model.op(static_cast<int>(i)).type) << "), trial " << trial;
    }
    EXPECT_GE(observed, static_cast<int>(spec.ops.size()) - (band_fusion ? 3 : 0));
    const std::vector<std::int8_t> out(interpreter.output(), interpreter.output() + interpreter.output_bytes());
    EXPECT_EQ(out, want[static_cast<std::size_t>(spec.outputs[0])]);
  }
  // The comparison means something only if the values are not all clamped to one end.
  for (std::size_t i = 0; i < spec.ops.size(); ++i)
    if (!distinct[i].empty()) {
      EXPECT_GE(distinct[i].size(), 4u) << "op " << i << " barely varies";
    }
}

TEST(KwsModel, EveryTensorMatchesTheIndependentEvaluationAtTheReferenceLevel) {
  run_against_oracle(test::kws_model(), KernelSet::kReference, false);
}

TEST(KwsModel, EveryTensorMatchesTheIndependentEvaluationAtTheBestLevel) {
  run_against_oracle(test::kws_model(), KernelSet::kAuto, false);
}

TEST(KwsModel, EveryTensorMatchesWithBandFusion) {
  run_against_oracle(test::kws_model(), KernelSet::kReference, true);
  run_against_oracle(test::kws_model(), KernelSet::kAuto, true);
}

TEST(KwsModel, VariantsMatch) {
  ModelSpec per_tensor = test::kws_model();  // per-tensor FC weights, no FC bias, fused RELU6
  per_tensor.tensors[test::kKwsFcWeights].scales = {0.013f};
  per_tensor.tensors[test::kKwsFcWeights].zero_points = {0};
  per_tensor.ops[test::kKwsOpFc].inputs.resize(2);
  per_tensor.ops[test::kKwsOpFc].activation = tflite_subset::ActivationFunctionType_RELU6;
  run_against_oracle(per_tensor, KernelSet::kReference, false);

  ModelSpec optional_bias = test::kws_model();  // bias given as -1
  optional_bias.ops[test::kKwsOpFc].inputs[2] = -1;
  run_against_oracle(optional_bias, KernelSet::kAuto, false);

  ModelSpec same_scales = test::kws_model();  // ADD with equal input scales, no activation
  same_scales.tensors[test::kKwsPwOut].scales = {6.0f / 255.0f};
  same_scales.ops[test::kKwsOpAdd].activation = tflite_subset::ActivationFunctionType_NONE;
  run_against_oracle(same_scales, KernelSet::kReference, false);

  ModelSpec batched = test::kws_model();  // FULLY_CONNECTED over 2 batches of depth 4
  batched.tensors[test::kKwsFcWeights].shape = {8, 4};
  batched.tensors[test::kKwsFcWeights].scales = {0.02f};
  batched.tensors[test::kKwsFcWeights].zero_points = {0};
  batched.ops[test::kKwsOpFc].inputs.resize(2);
  batched.tensors[test::kKwsOutput].shape = {2, 8};
  run_against_oracle(batched, KernelSet::kReference, false);
}

// Random byte mutations of the DS-CNN (its FULLY_CONNECTED and ADD included): each is refused
// with one line, or loads and runs (the sanitizer build catches any bad access).
TEST(KwsModel, RandomByteMutationsAreRefusedOrRun) {
  const test::ModelBytes original = test::build_model(test::kws_model());
  test::Lcg rng(2026);
  int loaded = 0, refused = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    test::ModelBytes bytes(original.data(), original.size());
    const int flips = 1 + rng.uniform(0, 3);
    for (int f = 0; f < flips; ++f)
      bytes.data()[rng.uniform(0, static_cast<int>(bytes.size()) - 1)] = static_cast<std::uint8_t>(rng.uniform(0, 255));
    Model model;
    const Status s = Model::load(bytes.data(), bytes.size(), &model);
    if (!s.ok()) {
      ++refused;
      EXPECT_EQ(std::string(s.message()).find('\n'), std::string::npos);
      continue;
    }
    ++loaded;
    if (model.total_macs() > 2'000'000 || model.arena_bytes() > (std::size_t{16} << 20)) continue;
    std::vector<std::uint8_t> memory(Interpreter::required_memory(model, KernelSet::kReference));
    Interpreter interpreter;
    if (!interpreter.init(model, memory.data(), memory.size(), KernelSet::kReference).ok()) continue;
    std::fill(interpreter.input(), interpreter.input() + interpreter.input_bytes(), static_cast<std::int8_t>(trial));
    EXPECT_TRUE(interpreter.invoke().ok());
  }
  EXPECT_GT(loaded, 100);
  EXPECT_GT(refused, 100);
}

// ---- refusals ---------------------------------------------------------------------------------

struct Refusal {
  const char* name;
  std::function<void(ModelSpec&)> mutate;
  std::vector<std::string> expected;
};

std::ostream& operator<<(std::ostream& os, const Refusal& r) { return os << r.name; }

class KwsRefusal : public ::testing::TestWithParam<Refusal> {};

TEST_P(KwsRefusal, IsRefusedWithOneClearLine) {
  ModelSpec spec = test::kws_model();
  GetParam().mutate(spec);
  const test::ModelBytes bytes = test::build_model(spec);
  Model model;
  const Status s = Model::load(bytes.data(), bytes.size(), &model);
  ASSERT_FALSE(s.ok());
  const std::string message = s.message();
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  for (const std::string& part : GetParam().expected) EXPECT_NE(message.find(part), std::string::npos) << message;
}

using namespace test;

INSTANTIATE_TEST_SUITE_P(
    FullyConnected, KwsRefusal,
    ::testing::Values(
        Refusal{"WeightsRank3",
                [](ModelSpec& m) {
                  m.tensors[kKwsFcWeights].shape = {4, 8, 1};
                },
                {"operator 6 (FULLY_CONNECTED)", "weights tensor 14 has rank 3, expected 2"}},
        Refusal{"DepthNotDividingInput",
                [](ModelSpec& m) {
                  m.tensors[kKwsFcWeights].shape = {2, 16};
                  m.tensors[kKwsFcWeights].scales = {0.01f};
                  m.tensors[kKwsFcWeights].zero_points = {0};
                },
                {"operator 6 (FULLY_CONNECTED)", "input has 8 elements, not a multiple of the weights' depth 16"}},
        Refusal{"OutputShape",
                [](ModelSpec& m) {
                  m.tensors[kKwsFcWeights].shape = {8, 4};
                  m.tensors[kKwsFcWeights].scales = {0.01f};
                  m.tensors[kKwsFcWeights].zero_points = {0};
                  m.ops[kKwsOpFc].inputs.resize(2);
                },
                {"output tensor 16 has shape [1,4], expected [2,8]"}},
        Refusal{"OutputRank3",
                [](ModelSpec& m) {
                  m.tensors[kKwsOutput].shape = {1, 1, 4};
                },
                {"operator 6 (FULLY_CONNECTED)", "output tensor 16 has rank 3, expected 2"}},
        Refusal{"KeepNumDims", [](ModelSpec& m) { m.ops[kKwsOpFc].keep_num_dims = true; }, {"keep_num_dims is true"}},
        Refusal{"ShuffledWeights",
                [](ModelSpec& m) { m.ops[kKwsOpFc].weights_format = 1; },
                {"weights format 1 is not supported"}},
        Refusal{"MissingOptions",
                [](ModelSpec& m) { m.ops[kKwsOpFc].options = OptionsKind::kNone; },
                {"FullyConnectedOptions are missing"}},
        Refusal{"BiasCount",
                [](ModelSpec& m) {
                  m.tensors[kKwsFcBias].shape = {3};
                  m.tensors[kKwsFcBias].data.resize(12);
                },
                {"bias tensor 15 has 3 elements, expected 4"}},
        Refusal{"BiasType",
                [](ModelSpec& m) { m.ops[kKwsOpFc].inputs[2] = kKwsFcWeights; },
                {"bias tensor 14 has type INT8, expected INT32"}},
        Refusal{"WeightsZeroPoint",
                [](ModelSpec& m) { m.tensors[kKwsFcWeights].zero_points[1] = 3; },
                {"weights tensor 14 channel 1 has a non-zero zero point"}},
        Refusal{"WeightsScaleCount",
                [](ModelSpec& m) {
                  m.tensors[kKwsFcWeights].scales.resize(3);
                  m.tensors[kKwsFcWeights].zero_points.resize(3);
                },
                {"weights tensor 14 has 3 scales, expected 1 or 4"}},
        Refusal{"WeightsQuantizedDim",
                [](ModelSpec& m) { m.tensors[kKwsFcWeights].quantized_dim = 1; },
                {"weights tensor 14 is quantized along dimension 1, expected 0"}},
        Refusal{"WeightsNotConstant",
                [](ModelSpec& m) { m.tensors[kKwsFcWeights].buffer = 0; },
                {"weights tensor 14 has no constant data"}},
        Refusal{"MultiplierTooLarge",
                [](ModelSpec& m) { m.tensors[kKwsOutput].scales = {1e-15f}; },
                {"operator 6 (FULLY_CONNECTED)", "requantization multiplier"}},
        Refusal{"TooManyInputs",
                [](ModelSpec& m) { m.ops[kKwsOpFc].inputs.push_back(kKwsFcBias); },
                {"has 4 inputs, expected 2 to 3"}}),
    [](const ::testing::TestParamInfo<Refusal>& info) { return std::string(info.param.name); });

INSTANTIATE_TEST_SUITE_P(
    Add, KwsRefusal,
    ::testing::Values(
        Refusal{"Broadcasting",
                [](ModelSpec& m) { m.ops[kKwsOpAdd].inputs[1] = kKwsInput; },
                {"operator 3 (ADD)", "input shapes [1,8,4,8] and [1,16,8,1] differ; broadcasting is not supported"}},
        Refusal{"OutputShape",
                [](ModelSpec& m) {
                  m.tensors[kKwsAddOut].shape = {1, 4, 8, 8};
                },
                {"operator 3 (ADD)", "output tensor 10 has shape [1,4,8,8], expected [1,8,4,8]"}},
        Refusal{"ConstantInput",
                [](ModelSpec& m) { m.ops[kKwsOpAdd].inputs[1] = kKwsPwWeights; },
                {"operator 3 (ADD)", "input tensor 7 is not produced by an earlier operator"}},
        Refusal{"LaterInput",
                [](ModelSpec& m) { m.ops[kKwsOpAdd].inputs[1] = kKwsPoolOut; },
                {"operator 3 (ADD)", "input tensor 11 is not produced by an earlier operator"}},
        Refusal{"OutputScaleTooSmall",
                [](ModelSpec& m) { m.tensors[kKwsAddOut].scales = {1e-9f}; },
                {"operator 3 (ADD)", "output multiplier", "is not below 1"}},
        Refusal{"OutputZeroPoint",
                [](ModelSpec& m) { m.tensors[kKwsAddOut].zero_points = {300}; },
                {"operator 3 (ADD)", "output tensor 10 has zero point 300, outside int8"}},
        Refusal{"MissingOptions",
                [](ModelSpec& m) { m.ops[kKwsOpAdd].options = OptionsKind::kNone; },
                {"AddOptions are missing"}},
        Refusal{"OneInput", [](ModelSpec& m) { m.ops[kKwsOpAdd].inputs.resize(1); }, {"has 1 inputs, expected 2 to 2"}},
        Refusal{
            "Activation",
            [](ModelSpec& m) { m.ops[kKwsOpAdd].activation = static_cast<tflite_subset::ActivationFunctionType>(4); },
            {"operator 3 (ADD)", "unsupported fused activation 4"}}),
    [](const ::testing::TestParamInfo<Refusal>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace micronet_ad
