// Model::load against broken input: hand-built models with exactly one thing wrong, the real
// models truncated and randomly mutated, and degenerate buffers. Every rejection must name the
// problem; every model that loads must run (the sanitizer build catches anything else). Valid
// variants of the tiny model must give exactly the int64 oracle's output (core/model_oracle.h).
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/model_builder.h"
#include "core/model_oracle.h"
#include "micronet_ad/interpreter.h"
#include "micronet_ad/model.h"
#include "support/test_data.h"

namespace micronet_ad {
namespace {

using test::ModelSpec;
using test::OpSpec;
using test::TensorSpec;
namespace fb = tflite_subset;

// ---- helpers ------------------------------------------------------------------------------

// An exact-size copy of some bytes (operator new[] is 16-byte aligned), so that AddressSanitizer
// reports any read past the end.
class ExactBytes {
 public:
  ExactBytes(const std::uint8_t* data, std::size_t size) : bytes_(new std::uint8_t[size > 0 ? size : 1]), size_(size) {
    if (size > 0) std::copy_n(data, size, bytes_.get());
  }
  std::uint8_t* data() { return bytes_.get(); }
  std::size_t size() const { return size_; }

 private:
  std::unique_ptr<std::uint8_t[]> bytes_;
  std::size_t size_;
};

Status load(const test::ModelBytes& bytes, Model* model) { return Model::load(bytes.data(), bytes.size(), model); }

// Runs a loaded model on one input; returns its output (empty and a test failure on error).
std::vector<std::int8_t> run(const Model& model, const std::vector<std::int8_t>& input) {
  std::vector<std::uint8_t> memory(Interpreter::required_memory(model));
  Interpreter interpreter;
  const Status init = interpreter.init(model, memory.data(), memory.size());
  EXPECT_TRUE(init.ok()) << init.message();
  if (!init) return {};
  EXPECT_EQ(interpreter.input_bytes(), input.size());
  std::copy_n(input.data(), std::min(input.size(), interpreter.input_bytes()), interpreter.input());
  const Status s = interpreter.invoke();
  EXPECT_TRUE(s.ok()) << s.message();
  return std::vector<std::int8_t>(interpreter.output(), interpreter.output() + interpreter.output_bytes());
}

// The expected values: the independent int64 evaluation of core/model_oracle.h (docs/arithmetic.md).
std::vector<std::int8_t> oracle_output(const ModelSpec& m, const std::vector<std::int8_t>& input) {
  return test::oracle_forward(m, input)[static_cast<std::size_t>(m.outputs[0])];
}

// Inputs that exercise the extremes and the middle.
std::vector<std::vector<std::int8_t>> test_inputs(std::size_t bytes) {
  std::vector<std::vector<std::int8_t>> inputs{
      std::vector<std::int8_t>(bytes, -128), std::vector<std::int8_t>(bytes, 127), std::vector<std::int8_t>(bytes, 3)};
  test::Lcg rng(7);
  for (int i = 0; i < 8; ++i) {
    std::vector<std::int8_t> x(bytes);
    for (auto& v : x) v = static_cast<std::int8_t>(rng.uniform(-128, 127));
    inputs.push_back(x);
  }
  return inputs;
}

// ---- valid models ---------------------------------------------------------------------------

TEST(TinyModel, LoadsWithExpectedGeometry) {
  const ModelSpec spec = test::tiny_model();
  const test::ModelBytes bytes = test::build_model(spec);
  Model model;
  const Status s = load(bytes, &model);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(model.schema_version(), 3u);
  EXPECT_EQ(model.num_tensors(), test::kNumTinyTensors);
  EXPECT_EQ(model.num_operators(), test::kNumTinyOps);
  EXPECT_EQ(model.input_tensor(), test::kInput);
  EXPECT_EQ(model.output_tensor(), test::kOutput);
  EXPECT_EQ(model.op(test::kOpConv0).type, OpType::kConv2D);
  EXPECT_EQ(model.op(test::kOpConv0).activation, Activation::kRelu6);
  EXPECT_EQ(model.op(test::kOpDw).type, OpType::kDepthwiseConv2D);
  EXPECT_EQ(model.op(test::kOpDw).stride_h, 2);
  EXPECT_EQ(model.op(test::kOpPool).type, OpType::kAveragePool2D);
  EXPECT_EQ(model.op(test::kOpPool).padding, Padding::kValid);
  EXPECT_EQ(model.op(test::kOpPool).filter_h, 4);
  EXPECT_EQ(model.op(test::kOpReshape).type, OpType::kReshape);
  // MACs: 8·8·4·9 + 4·4·4·9 + 3·4.
  EXPECT_EQ(model.total_macs(), 2304 + 576 + 12);
  // Parameters: 36 + 4 + 36 + 4 + 12 + 3 elements (RESHAPE's shape is not a parameter).
  EXPECT_EQ(model.parameter_count(), 95u);
  EXPECT_EQ(model.parameter_bytes(), 36u + 16 + 36 + 16 + 12 + 12);
  const TensorInfo out = model.tensor(model.output_tensor());
  EXPECT_EQ(out.shape.rank, 2);
  EXPECT_EQ(out.shape.dims[1], test::kTinyClasses);
  EXPECT_STREQ(out.name, "Identity");
  EXPECT_GE(model.arena_bytes(), model.arena_lower_bound());
}

// Valid variants: each must load and produce exactly what the int64 oracle computes.
struct ValidCase {
  const char* name;
  std::function<void(ModelSpec&)> change;
  bool responds_to_input = true;
};
void PrintTo(const ValidCase& c, std::ostream* os) { *os << c.name; }

class ValidModel : public ::testing::TestWithParam<ValidCase> {};

TEST_P(ValidModel, LoadsAndMatchesInt64Reference) {
  ModelSpec spec = test::tiny_model();
  GetParam().change(spec);
  const test::ModelBytes bytes = test::build_model(spec);
  Model model;
  const Status s = load(bytes, &model);
  ASSERT_TRUE(s.ok()) << s.message();
  const TensorInfo in = model.tensor(model.input_tensor());
  int distinct_outputs = 0;
  std::vector<std::int8_t> previous;
  for (const auto& input : test_inputs(in.bytes)) {
    const std::vector<std::int8_t> want = oracle_output(spec, input);
    const std::vector<std::int8_t> got = run(model, input);
    ASSERT_EQ(got, want);
    if (got != previous) ++distinct_outputs;
    previous = got;
  }
  if (GetParam().responds_to_input) {
    EXPECT_GT(distinct_outputs, 3) << "the tiny network should respond to its input";
  }
}

// Model::output_range (what `inspect --probe` counts saturation against) is the clamp the
// oracle (core/model_oracle.h) applies.
TEST_P(ValidModel, OutputRangeIsTheActivationClamp) {
  ModelSpec spec = test::tiny_model();
  GetParam().change(spec);
  const test::ModelBytes bytes = test::build_model(spec);
  Model model;
  const Status s = load(bytes, &model);
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_EQ(static_cast<std::size_t>(model.num_operators()), spec.ops.size());
  for (int i = 0; i < model.num_operators(); ++i) {
    const OpSpec& op = spec.ops[static_cast<std::size_t>(i)];
    const test::OracleRange want =
        test::oracle_activation_range(op.activation, spec.tensors[static_cast<std::size_t>(op.outputs[0])]);
    const Int8Range got = model.output_range(i);
    EXPECT_EQ(got.min, want.lo) << "operator " << i;
    EXPECT_EQ(got.max, want.hi) << "operator " << i;
  }
}

const ValidCase kValidCases[] = {
    {"Tiny", [](ModelSpec&) {}},
    // docs/models.md: two layers share one int32 bias tensor whose scale matches neither layer.
    {"SharedBiasWithForeignScale",
     [](ModelSpec& m) {
       m.ops[test::kOpDw].inputs[2] = test::kConv0Bias;
       m.tensors[test::kConv0Bias].scales = {1.0f};
       m.tensors[test::kConv0Bias].zero_points = {0};
       m.tensors[test::kConv0Bias].quantized_dim = 0;
     }},
    {"BiasOmitted", [](ModelSpec& m) { m.ops[test::kOpConv1].inputs.resize(2); }},
    {"BiasMinusOne", [](ModelSpec& m) { m.ops[test::kOpDw].inputs[2] = -1; }},
    {"PerTensorWeightScale",
     [](ModelSpec& m) {
       m.tensors[test::kConv1Weights].scales = {0.013f};
       m.tensors[test::kConv1Weights].zero_points = {0};
     }},
    {"ReshapeWithoutShapeTensor", [](ModelSpec& m) { m.ops[test::kOpReshape].inputs = {test::kConv1Out}; }},
    {"DeprecatedBuiltinCodesOnly",
     [](ModelSpec& m) {
       for (auto& op : m.ops) op.deprecated_code_only = true;
     }},
    {"SamePaddingStride2Conv",
     [](ModelSpec& m) {  // conv0 with stride 2 (asymmetric SAME padding) and a stride-1 depthwise
       m.ops[test::kOpConv0].stride_h = m.ops[test::kOpConv0].stride_w = 2;
       m.tensors[test::kConv0Out].shape = {1, 4, 4, test::kTinyChannels};
       m.ops[test::kOpDw].stride_h = m.ops[test::kOpDw].stride_w = 1;
     }},
    {"DilatedDepthwise",
     [](ModelSpec& m) {  // dilation 2x3 on the 8x8 map; SAME output size ignores dilation
       m.ops[test::kOpDw].dilation_h = 2;
       m.ops[test::kOpDw].dilation_w = 3;
     }},
    {"DilatedConvValid",
     [](ModelSpec& m) {  // conv0 VALID with dilation 2: the effective 5x5 filter gives 4x4
       m.ops[test::kOpConv0].padding = fb::Padding_VALID;
       m.ops[test::kOpConv0].dilation_h = m.ops[test::kOpConv0].dilation_w = 2;
       m.tensors[test::kConv0Out].shape = {1, 4, 4, test::kTinyChannels};
       m.ops[test::kOpDw].stride_h = m.ops[test::kOpDw].stride_w = 1;
     }},
    {"SamePoolWithStride",
     [](ModelSpec& m) {  // a 3x3 SAME window, stride 4, over the 4x4 map: one partial window
       m.ops[test::kOpPool].padding = fb::Padding_SAME;
       m.ops[test::kOpPool].filter_h = m.ops[test::kOpPool].filter_w = 3;
       m.ops[test::kOpPool].stride_h = m.ops[test::kOpPool].stride_w = 4;
     }},
    {"HugeButValidMultiplier",  // conv1: 0.08 · 0.015 / 2e-12 = 6e8, a left shift of 30
     [](ModelSpec& m) { m.tensors[test::kConv1Out].scales[0] = m.tensors[test::kOutput].scales[0] = 2e-12f; }},
    {"TinyMultiplierFlushedToZero",  // conv1: 0.08 · 0.012 / 1e12: every bit shifted out
     [](ModelSpec& m) { m.tensors[test::kConv1Out].scales[0] = m.tensors[test::kOutput].scales[0] = 1e12f; },
     /*responds_to_input=*/false},
    {"Relu6OnEveryConv",
     [](ModelSpec& m) {
       m.ops[test::kOpDw].activation = fb::ActivationFunctionType_RELU6;
       m.ops[test::kOpConv1].activation = fb::ActivationFunctionType_RELU_N1_TO_1;
     }},
};

INSTANTIATE_TEST_SUITE_P(Variants, ValidModel, ::testing::ValuesIn(kValidCases),
                         [](const ::testing::TestParamInfo<ValidCase>& info) { return std::string(info.param.name); });

// ---- one thing wrong ------------------------------------------------------------------------

struct BrokenCase {
  const char* name;
  std::function<void(ModelSpec&)> change;
  std::vector<const char*> expected;  // substrings the error message must contain
};
void PrintTo(const BrokenCase& c, std::ostream* os) { *os << c.name; }

void set_bytes(TensorSpec& t, std::size_t n) { t.data.assign(n, 1); }

const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kInf = std::numeric_limits<float>::infinity();

using namespace test;  // tensor and operator indices of the tiny model

const BrokenCase kBrokenCases[] = {
    // The file as a whole.
    {"WrongFileIdentifier",
     [](ModelSpec& m) { m.identifier = "ABCD"; },
     {"file identifier is 'ABCD'", "expected 'TFL3'"}},
    {"SchemaVersion2", [](ModelSpec& m) { m.version = 2; }, {"schema version 2", "expected 3"}},
    {"SchemaVersion4", [](ModelSpec& m) { m.version = 4; }, {"schema version 4", "expected 3"}},
    {"NoSubgraphs", [](ModelSpec& m) { m.num_subgraphs = 0; }, {"0 subgraphs", "expected exactly 1"}},
    {"TwoSubgraphs", [](ModelSpec& m) { m.num_subgraphs = 2; }, {"2 subgraphs", "expected exactly 1"}},

    // Tensor indices.
    {"OperatorInputOutOfRange",
     [](ModelSpec& m) { m.ops[kOpDw].inputs[0] = 99; },
     {"operator 1 (DEPTHWISE_CONV_2D)", "input 0 refers to tensor 99", "has 13"}},
    {"OperatorWeightsIndexOutOfRange",
     [](ModelSpec& m) { m.ops[kOpConv1].inputs[1] = 13; },
     {"operator 3 (CONV_2D)", "input 1 refers to tensor 13"}},
    {"OperatorInputNegative",
     [](ModelSpec& m) { m.ops[kOpPool].inputs[0] = -2; },
     {"operator 2 (AVERAGE_POOL_2D)", "input 0 refers to tensor -2"}},
    {"OperatorOutputOutOfRange",
     [](ModelSpec& m) { m.ops[kOpPool].outputs[0] = 13; },
     {"operator 2 (AVERAGE_POOL_2D)", "output refers to tensor 13"}},
    {"SubgraphInputOutOfRange", [](ModelSpec& m) { m.inputs = {42}; }, {"subgraph input refers to tensor 42"}},
    {"SubgraphOutputOutOfRange", [](ModelSpec& m) { m.outputs = {-1}; }, {"subgraph output refers to tensor -1"}},
    {"TwoSubgraphInputs",
     [](ModelSpec& m) {
       m.inputs = {kInput, kInput};
     },
     {"subgraph has 2 inputs, expected 1"}},
    {"NoSubgraphOutputs", [](ModelSpec& m) { m.outputs = {}; }, {"subgraph has 0 outputs, expected 1"}},

    // Buffers.
    {"WeightsBufferOneByteShort",
     [](ModelSpec& m) { m.tensors[kConv0Weights].data.pop_back(); },
     {"tensor 1 (conv0/weights)", "has 35 bytes", "expected 36"}},
    {"WeightsBufferOneByteLong",
     [](ModelSpec& m) { m.tensors[kDwWeights].data.push_back(0); },
     {"tensor 4 (dw/weights)", "has 37 bytes", "expected 36"}},
    {"BiasBufferShort",
     [](ModelSpec& m) { m.tensors[kConv1Bias].data.resize(11); },
     {"tensor 9 (conv1/bias)", "has 11 bytes", "expected 12"}},
    {"BufferIndexOutOfRange",
     [](ModelSpec& m) { m.tensors[kDwWeights].buffer = 99; },
     {"tensor 4 refers to buffer 99", "has 8 buffers"}},
    {"WeightsWithoutData",
     [](ModelSpec& m) { m.tensors[kConv0Weights].buffer = 0; },
     {"operator 0 (CONV_2D)", "weights tensor 1 has no constant data"}},
    {"BiasWithoutData",
     [](ModelSpec& m) { m.tensors[kDwBias].buffer = 0; },
     {"operator 1 (DEPTHWISE_CONV_2D)", "bias tensor 5 has no constant data"}},

    // Operators the engine does not run (FULLY_CONNECTED, refused here until it was added, now runs).
    {"Mul",
     [](ModelSpec& m) { m.ops[kOpConv1].builtin_code = kBuiltinMul; },
     {"operator 3", "unsupported operator MUL", "builtin code 18"}},
    {"CustomOperator",
     [](ModelSpec& m) {
       m.ops[kOpPool].builtin_code = kBuiltinCustom;
       m.ops[kOpPool].custom_code = "MicroMagicPool";
     },
     {"operator 2", "unsupported custom operator 'MicroMagicPool'"}},
    {"UnknownBuiltin", [](ModelSpec& m) { m.ops[kOpReshape].builtin_code = 150; }, {"operator 4", "builtin code 150"}},

    // Shapes.
    {"ZeroDimension", [](ModelSpec& m) { m.tensors[kDwOut].shape[1] = 0; }, {"tensor 6", "dimension 1 of size 0"}},
    {"NegativeDimension",
     [](ModelSpec& m) { m.tensors[kConv0Out].shape[3] = -4; },
     {"tensor 3", "dimension 3 of size -4"}},
    {"HugeDimension",
     [](ModelSpec& m) { m.tensors[kPoolOut].shape[1] = 1 << 30; },
     {"tensor 7 is too large", "dimension 1 is 1073741824"}},
    {"HugeProduct",
     [](ModelSpec& m) {
       m.tensors[kConv0Out].shape = {1, 1 << 12, 1 << 12, 64};
     },
     {"tensor 3 is too large", "dimension 3 is 64"}},
    {"HugeProductOfConstant",
     [](ModelSpec& m) {
       m.tensors[kConv0Weights].shape = {1 << 15, 1 << 15, 1, 1};
     },
     {"tensor 1 is too large"}},
    {"Rank5",
     [](ModelSpec& m) {
       m.tensors[kDwOut].shape = {1, 4, 4, 4, 1};
     },
     {"tensor 6 has rank 5", "at most 4"}},
    {"ActivationRank3",
     [](ModelSpec& m) {
       m.tensors[kPoolOut].shape = {1, 1, 4};
     },
     {"operator 2 (AVERAGE_POOL_2D)", "output tensor 7 has rank 3, expected 4"}},
    {"WeightsRank3",
     [](ModelSpec& m) {
       m.tensors[kConv1Weights].shape = {3, 1, 4};
     },
     {"operator 3 (CONV_2D)", "weights tensor 8 has rank 3, expected 4"}},

    // Types.
    {"Float32Activation",
     [](ModelSpec& m) { m.tensors[kConv0Out].type = fb::TensorType_FLOAT32; },
     {"operator 0 (CONV_2D)", "output tensor 3 has type FLOAT32, expected INT8"}},
    {"Float32Input",
     [](ModelSpec& m) { m.tensors[kInput].type = fb::TensorType_FLOAT32; },
     {"subgraph input tensor 0 must be INT8"}},
    {"UInt8Output",
     [](ModelSpec& m) { m.tensors[kOutput].type = fb::TensorType_UINT8; },
     {"subgraph output tensor 12 must be INT8"}},
    {"Int8Bias",
     [](ModelSpec& m) {
       m.tensors[kDwBias].type = fb::TensorType_INT8;
       set_bytes(m.tensors[kDwBias], 4);
     },
     {"operator 1 (DEPTHWISE_CONV_2D)", "bias tensor 5 has type INT8, expected INT32"}},
    {"Int32Weights",
     [](ModelSpec& m) {
       m.tensors[kConv1Weights].type = fb::TensorType_INT32;
       set_bytes(m.tensors[kConv1Weights], 48);
     },
     {"operator 3 (CONV_2D)", "weights tensor 8 has type INT32, expected INT8"}},
    {"StringTensor",
     [](ModelSpec& m) { m.tensors[kDwOut].type = fb::TensorType_STRING; },
     {"tensor 6 has unsupported type 5"}},

    // Quantization.
    {"ActivationWithoutQuantization",
     [](ModelSpec& m) { m.tensors[kDwOut].has_quantization = false; },
     {"operator 1 (DEPTHWISE_CONV_2D)", "output tensor 6 lacks per-tensor quantization"}},
    {"ActivationWithTwoScales",
     [](ModelSpec& m) {
       m.tensors[kConv0Out].scales.push_back(0.5f);
       m.tensors[kConv0Out].zero_points.push_back(0);
     },
     {"operator 0 (CONV_2D)", "output tensor 3 lacks per-tensor quantization"}},
    {"WeightsWithoutQuantization",
     [](ModelSpec& m) { m.tensors[kConv1Weights].has_quantization = false; },
     {"operator 3 (CONV_2D)", "weights tensor 8 has no quantization parameters"}},
    {"PerChannelScaleCountMismatch",
     [](ModelSpec& m) {
       m.tensors[kConv0Weights].scales.pop_back();
       m.tensors[kConv0Weights].zero_points.pop_back();
     },
     {"weights tensor 1 has 3 scales, expected 1 or 4"}},
    {"PerChannelZeroPointCountMismatch",
     [](ModelSpec& m) { m.tensors[kDwWeights].zero_points.pop_back(); },
     {"weights tensor 4 has 3 zero points for 4 scales"}},
    {"WrongQuantizedDimension",
     [](ModelSpec& m) { m.tensors[kDwWeights].quantized_dim = 0; },
     {"weights tensor 4 is quantized along dimension 0, expected 3"}},
    {"NonZeroWeightZeroPoint",
     [](ModelSpec& m) { m.tensors[kConv0Weights].zero_points[2] = 1; },
     {"weights tensor 1 channel 2 has a non-zero zero point"}},
    {"NegativeWeightScale",
     [](ModelSpec& m) { m.tensors[kDwWeights].scales[1] = -0.01f; },
     {"weights tensor 4 channel 1 has scale -0.01", "positive finite"}},
    {"NaNWeightScale",
     [](ModelSpec& m) { m.tensors[kConv1Weights].scales[0] = kNaN; },
     {"weights tensor 8 channel 0 has scale nan"}},
    {"ZeroActivationScale",
     [](ModelSpec& m) { m.tensors[kPoolOut].scales[0] = 0.0f; },
     {"operator 2 (AVERAGE_POOL_2D)", "output tensor 7 has scale 0"}},
    {"NegativeActivationScale",
     [](ModelSpec& m) { m.tensors[kConv0Out].scales[0] = -0.5f; },
     {"output tensor 3 has scale -0.5"}},
    {"NaNActivationScale",
     [](ModelSpec& m) { m.tensors[kConv1Out].scales[0] = kNaN; },
     {"operator 3 (CONV_2D)", "output tensor 10 has scale nan"}},
    {"InfiniteInputScale",
     [](ModelSpec& m) { m.tensors[kInput].scales[0] = kInf; },
     {"operator 0 (CONV_2D)", "input tensor 0 has scale inf"}},
    // in_scale·w_scale/out_scale ≥ 2^30 needs a left shift over 30 bits in the kernels (found by
    // the random-mutation test below: a flipped exponent bit in a scale).
    {"RequantizationMultiplierTooLarge",
     [](ModelSpec& m) { m.tensors[kConv0Out].scales[0] = 1e-30f; },
     {"operator 0 (CONV_2D)", "channel 0 requantization multiplier", "too large"}},
    {"WeightScaleMakesMultiplierTooLarge",
     [](ModelSpec& m) { m.tensors[kDwWeights].scales[2] = 1e30f; },
     {"operator 1 (DEPTHWISE_CONV_2D)", "channel 2 requantization multiplier", "too large"}},
    // The verifier does not check int64 elements' alignment (found by the fuzzer).
    {"MisalignedZeroPointVector",
     [](ModelSpec& m) { m.tensors[kDwWeights].misaligned_zero_points = true; },
     {"tensor 4 has a misaligned zero_point vector"}},
    {"ZeroPointOutsideInt8",
     [](ModelSpec& m) { m.tensors[kDwOut].zero_points[0] = 200; },
     {"output tensor 6 has zero point 200, outside int8"}},

    // Geometry.
    {"ConvOutputShapeInconsistent",
     [](ModelSpec& m) {
       m.tensors[kConv0Out].shape = {1, 7, 8, 4};
     },
     {"operator 0 (CONV_2D)", "output tensor 3 has shape [1,7,8,4], expected [1,8,8,4]"}},
    {"DepthwiseStrideDisagreesWithOutput",
     [](ModelSpec& m) { m.ops[kOpDw].stride_h = m.ops[kOpDw].stride_w = 1; },
     {"operator 1 (DEPTHWISE_CONV_2D)", "output tensor 6 has shape [1,4,4,4], expected [1,8,8,4]"}},
    {"ConvOutputChannelsInconsistent",
     [](ModelSpec& m) {
       m.tensors[kConv1Out].shape = {1, 1, 1, 2};
     },
     {"operator 3 (CONV_2D)", "expected [1,1,1,3]"}},
    {"BatchDiffers",
     [](ModelSpec& m) { m.tensors[kPoolOut].shape[0] = 2; },
     {"operator 2 (AVERAGE_POOL_2D)", "output batch 2 differs from input batch 1"}},
    {"ConvStrideZero",
     [](ModelSpec& m) { m.ops[kOpConv0].stride_h = 0; },
     {"operator 0 (CONV_2D)", "stride 0x1 is invalid"}},
    {"PoolStrideZero",
     [](ModelSpec& m) { m.ops[kOpPool].stride_w = 0; },
     {"operator 2 (AVERAGE_POOL_2D)", "stride 1x0 is invalid"}},
    {"DepthwiseStrideNegative",
     [](ModelSpec& m) { m.ops[kOpDw].stride_h = -2; },
     {"operator 1", "stride -2x2 is invalid"}},
    {"DilationZero", [](ModelSpec& m) { m.ops[kOpConv0].dilation_w = 0; }, {"operator 0", "dilation 1x0 is invalid"}},
    {"AbsurdStride", [](ModelSpec& m) { m.ops[kOpConv1].stride_h = 1 << 30; }, {"operator 3", "absurdly large"}},
    {"PoolWindowZero", [](ModelSpec& m) { m.ops[kOpPool].filter_w = 0; }, {"operator 2", "pool window 4x0 is invalid"}},
    {"ValidFilterLargerThanInput",
     [](ModelSpec& m) { m.ops[kOpPool].filter_h = m.ops[kOpPool].filter_w = 5; },
     {"operator 2 (AVERAGE_POOL_2D)", "filter 5x5 does not fit the 4x4 input with VALID padding"}},
    {"ValidConvFilterLargerThanInput",
     [](ModelSpec& m) {
       // conv1 gets a 3x3 VALID filter on the 1x1 pooled map.
       m.tensors[kConv1Weights].shape = {3, 3, 3, 4};
       set_bytes(m.tensors[kConv1Weights], 108);
       m.ops[kOpConv1].padding = fb::Padding_VALID;
     },
     {"operator 3 (CONV_2D)", "filter 3x3 does not fit the 1x1 input with VALID padding"}},
    {"UnknownPadding",
     [](ModelSpec& m) { m.ops[kOpDw].padding = static_cast<fb::Padding>(7); },
     {"operator 1", "unknown padding 7"}},
    {"UnsupportedFusedActivation",
     [](ModelSpec& m) { m.ops[kOpConv0].activation = fb::ActivationFunctionType_TANH; },
     {"operator 0 (CONV_2D)", "unsupported fused activation 4"}},
    {"DepthwiseChannelMismatch",
     [](ModelSpec& m) {
       TensorSpec& w = m.tensors[kDwWeights];
       w.shape = {1, 3, 3, 3};
       set_bytes(w, 27);
       w.scales.resize(3);
       w.zero_points.resize(3);
     },
     {"operator 1 (DEPTHWISE_CONV_2D)", "weights tensor 4 has 3 channels, not a multiple of the input's 4"}},
    {"DepthwiseLeadingDimension",
     [](ModelSpec& m) {
       m.tensors[kDwWeights].shape = {2, 3, 3, 2};
     },
     {"operator 1 (DEPTHWISE_CONV_2D)", "weights tensor 4 has leading dimension 2, expected 1"}},
    {"DepthMultiplierMismatch",
     [](ModelSpec& m) { m.ops[kOpDw].depth_multiplier = 2; },
     {"operator 1", "depth multiplier is 2 but the weights imply 1"}},
    {"ConvInputChannelMismatch",
     [](ModelSpec& m) {
       m.tensors[kConv1Weights].shape = {3, 1, 1, 5};
       set_bytes(m.tensors[kConv1Weights], 15);
     },
     {"operator 3 (CONV_2D)", "weights tensor 8 has 5 input channels, the input has 4"}},
    {"BiasLengthMismatch",
     [](ModelSpec& m) {
       m.tensors[kConv1Bias].shape = {2};
       set_bytes(m.tensors[kConv1Bias], 8);
     },
     {"operator 3 (CONV_2D)", "bias tensor 9 has 2 elements, expected 3"}},
    {"AvgPoolRescales",
     [](ModelSpec& m) { m.tensors[kPoolOut].scales[0] *= 2.0f; },
     {"operator 2 (AVERAGE_POOL_2D)", "input and output quantization differ"}},
    {"AvgPoolZeroPointDiffers",
     [](ModelSpec& m) { m.tensors[kPoolOut].zero_points[0] = -19; },
     {"operator 2 (AVERAGE_POOL_2D)", "input and output quantization differ"}},
    {"ReshapeElementCountMismatch",
     [](ModelSpec& m) {
       m.tensors[kOutput].shape = {1, 4};
     },
     {"operator 4 (RESHAPE)", "input has 3 elements but output has 4"}},
    {"ReshapeShapeNotInt32",
     [](ModelSpec& m) { m.tensors[kReshapeShape].type = fb::TensorType_UINT32; },
     {"operator 4 (RESHAPE)", "shape tensor 11 is not INT32"}},

    // Graph structure.
    {"ReadsTensorNoEarlierOpProduced",
     [](ModelSpec& m) { m.ops[kOpDw].inputs[0] = kPoolOut; },
     {"operator 1 (DEPTHWISE_CONV_2D)", "input tensor 7 is not produced by an earlier operator"}},
    {"OperatorsOutOfOrder",
     [](ModelSpec& m) { std::swap(m.ops[kOpPool], m.ops[kOpConv1]); },
     {"operator 2 (CONV_2D)", "input tensor 7 is not produced by an earlier operator"}},
    {"ReadsConstantAsActivation",
     [](ModelSpec& m) { m.ops[kOpPool].inputs[0] = kDwWeights; },
     {"operator 2", "input tensor 4 is not produced by an earlier operator"}},
    {"TensorWrittenTwice",
     [](ModelSpec& m) { m.ops[kOpConv1].outputs = {kDwOut}; },
     {"operator 3 (CONV_2D)", "output tensor 6 is a constant or written twice"}},
    {"OutputIsConstant",
     [](ModelSpec& m) { m.ops[kOpConv0].outputs = {kConv0Weights}; },
     {"operator 0 (CONV_2D)", "output tensor 1 is a constant"}},
    {"TwoOperatorOutputs",
     [](ModelSpec& m) {
       m.ops[kOpConv0].outputs = {kConv0Out, kDwOut};
     },
     {"operator 0 (CONV_2D)", "has 2 outputs, expected 1"}},
    {"ConvWithoutWeights",
     [](ModelSpec& m) { m.ops[kOpConv0].inputs = {kInput}; },
     {"operator 0 (CONV_2D)", "has 1 inputs, expected 2 to 3"}},
    {"GraphOutputNeverWritten",
     [](ModelSpec& m) { m.outputs = {kInput}; },
     {"subgraph output tensor 0 is not produced by any operator"}},
    {"GraphInputIsConstant",
     [](ModelSpec& m) { m.inputs = {kConv1Weights}; },
     {"subgraph input tensor 8 is a constant"}},

    // Options.
    {"MissingConvOptions",
     [](ModelSpec& m) { m.ops[kOpConv0].options = OptionsKind::kNone; },
     {"operator 0 (CONV_2D)", "Conv2DOptions are missing"}},
    {"MissingDepthwiseOptions",
     [](ModelSpec& m) { m.ops[kOpDw].options = OptionsKind::kNone; },
     {"operator 1 (DEPTHWISE_CONV_2D)", "DepthwiseConv2DOptions are missing"}},
    {"MissingPoolOptions",
     [](ModelSpec& m) { m.ops[kOpPool].options = OptionsKind::kNone; },
     {"operator 2 (AVERAGE_POOL_2D)", "Pool2DOptions are missing"}},
    {"ConvWithPoolOptions",
     [](ModelSpec& m) { m.ops[kOpConv1].options = OptionsKind::kWrongType; },
     {"operator 3 (CONV_2D)", "Conv2DOptions are missing"}},
    {"PoolWithConvOptions",
     [](ModelSpec& m) { m.ops[kOpPool].options = OptionsKind::kWrongType; },
     {"operator 2 (AVERAGE_POOL_2D)", "Pool2DOptions are missing"}},
};

class BrokenModel : public ::testing::TestWithParam<BrokenCase> {};

TEST_P(BrokenModel, IsRejectedWithAMessageNamingTheProblem) {
  ModelSpec spec = test::tiny_model();
  GetParam().change(spec);
  const test::ModelBytes bytes = test::build_model(spec);
  ExactBytes exact(bytes.data(), bytes.size());  // exact size: any over-read is an ASan report
  Model model;
  const Status s = Model::load(exact.data(), exact.size(), &model);
  ASSERT_FALSE(s.ok()) << "a model with this defect loaded: " << GetParam().name;
  const std::string message = s.message();
  for (const char* part : GetParam().expected)
    EXPECT_NE(message.find(part), std::string::npos) << "message \"" << message << "\" lacks \"" << part << "\"";
}

INSTANTIATE_TEST_SUITE_P(OneDefect, BrokenModel, ::testing::ValuesIn(kBrokenCases),
                         [](const ::testing::TestParamInfo<BrokenCase>& info) { return std::string(info.param.name); });

// ---- degenerate buffers ---------------------------------------------------------------------

TEST(DegenerateBuffer, EmptyNullAndTiny) {
  Model model;
  const std::uint64_t zeros[4] = {0, 0, 0, 0};
  const auto* z = reinterpret_cast<const std::uint8_t*>(zeros);

  Status s = Model::load(z, 0, &model);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("empty"), std::string::npos) << s.message();

  s = Model::load(nullptr, 0, &model);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("empty"), std::string::npos) << s.message();

  s = Model::load(nullptr, 1000, &model);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("empty"), std::string::npos) << s.message();

  ExactBytes seven(z, 7);
  s = Model::load(seven.data(), seven.size(), &model);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("7 bytes"), std::string::npos) << s.message();

  s = Model::load(z, sizeof(zeros), &model);  // 32 zero bytes: no identifier
  ASSERT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("file identifier"), std::string::npos) << s.message();
}

TEST(DegenerateBuffer, MisalignedPointerIsAClearError) {
  const test::ModelBytes bytes = test::build_model(test::tiny_model());
  std::vector<std::uint64_t> storage(bytes.size() / 8 + 2);
  for (std::size_t shift = 1; shift < 8; ++shift) {
    auto* p = reinterpret_cast<std::uint8_t*>(storage.data()) + shift;
    std::copy_n(bytes.data(), bytes.size(), p);
    Model model;
    const Status s = Model::load(p, bytes.size(), &model);
    ASSERT_FALSE(s.ok()) << "shift " << shift;
    EXPECT_NE(std::string(s.message()).find("8-byte aligned"), std::string::npos) << s.message();
  }
  // Same bytes, aligned: loads.
  Model model;
  EXPECT_TRUE(Model::load(bytes.data(), bytes.size(), &model).ok());
}

TEST(DegenerateBuffer, TinyModelTruncatedAnywhereIsRejected) {
  const test::ModelBytes bytes = test::build_model(test::tiny_model());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    ExactBytes prefix(bytes.data(), n);
    Model model;
    const Status s = Model::load(prefix.data(), n, &model);
    ASSERT_FALSE(s.ok()) << "a " << n << "-byte prefix of a " << bytes.size() << "-byte model loaded";
    ASSERT_GT(std::strlen(s.message()), 0u);
  }
}

// ---- the real models, truncated and mutated -------------------------------------------------

class RealModel : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    const std::vector<std::uint8_t> file = host::read_file(test::model_path(GetParam()));
    bytes_ = std::make_unique<test::ModelBytes>(file.data(), file.size());
    const std::vector<std::int8_t> inputs = test::shared_int8("golden/engine/inputs_256x1024.i8");
    input_.assign(inputs.begin(), inputs.begin() + 1024);
  }
  std::unique_ptr<test::ModelBytes> bytes_;
  std::vector<std::int8_t> input_;
};

TEST_P(RealModel, Loads) {
  Model model;
  const Status s = load(*bytes_, &model);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(run(model, input_).size(), 8u);
}

TEST_P(RealModel, TruncatedFilesAreRejected) {
  const std::size_t size = bytes_->size();
  std::vector<std::size_t> lengths;
  for (std::size_t n = 0; n < 64; ++n) lengths.push_back(n);
  for (std::size_t n = 1000; n < size; n += 1000) lengths.push_back(n);
  for (std::size_t n = size - 64; n < size; ++n) lengths.push_back(n);
  for (std::size_t n : lengths) {
    ExactBytes prefix(bytes_->data(), n);
    Model model;
    const Status s = Model::load(prefix.data(), n, &model);
    ASSERT_FALSE(s.ok()) << GetParam() << " truncated to " << n << " of " << size << " bytes loaded";
    ASSERT_GT(std::strlen(s.message()), 0u);
  }
}

// Loads a mutated copy; if it loads, it must run on the golden input. Returns whether it loaded.
struct MutationStats {
  int loaded = 0, rejected = 0, not_run = 0;
};

void load_and_maybe_run(ExactBytes& mutated, const std::vector<std::int8_t>& input, MutationStats* stats,
                        const std::string& what) {
  Model model;
  const Status s = Model::load(mutated.data(), mutated.size(), &model);
  if (!s) {
    ++stats->rejected;
    EXPECT_GT(std::strlen(s.message()), 0u) << what;
    return;
  }
  ++stats->loaded;
  const std::size_t memory_bytes = Interpreter::required_memory(model);
  // A mutation can (rarely) yield a consistent but enormous model: validated, but not run here.
  if (memory_bytes > (std::size_t{256} << 20) || model.total_macs() > 2'000'000'000) {
    ++stats->not_run;
    return;
  }
  std::vector<std::uint8_t> memory(memory_bytes);
  Interpreter interpreter;
  const Status init = interpreter.init(model, memory.data(), memory.size());
  ASSERT_TRUE(init.ok()) << what << ": " << init.message();
  std::copy_n(input.data(), std::min(input.size(), interpreter.input_bytes()), interpreter.input());
  const Status run_status = interpreter.invoke();
  EXPECT_TRUE(run_status.ok()) << what << ": " << run_status.message();
}

TEST_P(RealModel, RandomByteMutationsAreRejectedOrRun) {
  // Enough to cover every region of the file; the libFuzzer target explores further.
  constexpr int kSingleByte = 150, kMultiByte = 50;
  std::mt19937 rng(0x5eed0000u + static_cast<unsigned>(std::string(GetParam()).size()));
  const std::size_t size = bytes_->size();
  std::uniform_int_distribution<std::size_t> position(0, size - 1);
  std::uniform_int_distribution<int> byte(1, 255);  // xor mask: never 0, so the byte always changes
  MutationStats single, multi;
  for (int i = 0; i < kSingleByte + kMultiByte; ++i) {
    ExactBytes mutated(bytes_->data(), size);
    const int count = i < kSingleByte ? 1 : 2 + static_cast<int>(rng() % 15);
    std::string what = std::string(GetParam()) + " mutation " + std::to_string(i) + " at";
    for (int k = 0; k < count; ++k) {
      const std::size_t at = position(rng);
      mutated.data()[at] ^= static_cast<std::uint8_t>(byte(rng));
      what += " " + std::to_string(at);
    }
    load_and_maybe_run(mutated, input_, i < kSingleByte ? &single : &multi, what);
    if (HasFatalFailure()) return;
  }
  std::printf(
      "[ mutations ] ad_%s: single-byte %d loaded / %d rejected; multi-byte %d loaded / %d rejected; "
      "%d loaded but too large to run\n",
      GetParam(), single.loaded, single.rejected, multi.loaded, multi.rejected, single.not_run + multi.not_run);
  RecordProperty("single_byte_loaded", single.loaded);
  RecordProperty("single_byte_rejected", single.rejected);
  RecordProperty("multi_byte_loaded", multi.loaded);
  RecordProperty("multi_byte_rejected", multi.rejected);
  EXPECT_EQ(single.loaded + single.rejected, kSingleByte);
  EXPECT_EQ(multi.loaded + multi.rejected, kMultiByte);
}

INSTANTIATE_TEST_SUITE_P(Shared, RealModel, ::testing::Values("small", "medium", "large"));

}  // namespace
}  // namespace micronet_ad
