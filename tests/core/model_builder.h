// Test-only builder of small TFLite models: a plain description (ModelSpec) that a test edits
// field by field, serialized with flatbuffers' builder and the generated tflite_subset API.
//
// tiny_model() describes a complete valid int8 network:
//   input [1,8,8,1] → CONV_2D 3x3 SAME RELU6 (4 ch) → DEPTHWISE_CONV_2D 3x3 s2 SAME RELU
//   → AVERAGE_POOL_2D 4x4 VALID → CONV_2D 1x1 (3 ch) → RESHAPE [1,3]
// A test corrupts exactly one thing (a shape, a scale, an index, a flag below) and builds it.
//
// kws_model() is a small keyword-spotting-style DS-CNN using every operator the engine runs:
//   input [1,16,8,1] → CONV_2D 3x3 s2 RELU6 (8 ch) ─┬→ DEPTHWISE 3x3 RELU → CONV_2D 1x1 ─→ ADD RELU
//                                                     └───────────── residual ───────────────┘
//   → AVERAGE_POOL_2D 8x4 VALID → RESHAPE [1,8] → FULLY_CONNECTED (4 units, per-channel) → [1,4]
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "flatbuffers/flatbuffers.h"
#include "tflite_subset_generated.h"

namespace micronet_ad::test {

namespace fb = tflite_subset;

// TFLite builtin operator codes.
enum Builtin : int {
  kBuiltinAdd = 0,
  kBuiltinAveragePool2D = 1,
  kBuiltinConv2D = 3,
  kBuiltinDepthwiseConv2D = 4,
  kBuiltinFullyConnected = 9,
  kBuiltinMul = 18,
  kBuiltinReshape = 22,
  kBuiltinCustom = 32,
};

struct TensorSpec {
  std::string name;
  std::vector<std::int32_t> shape;
  fb::TensorType type = fb::TensorType_INT8;
  bool has_quantization = true;
  std::vector<float> scales;
  std::vector<std::int64_t> zero_points;
  int quantized_dim = 0;
  std::vector<std::uint8_t> data;       // constant bytes; empty for an activation
  int buffer = -1;                      // -1: automatic (a buffer of its own if it has data, else buffer 0)
  bool misaligned_zero_points = false;  // int64 elements 4 bytes off their natural alignment
};

// Which builtin_options an operator carries.
enum class OptionsKind { kMatching, kNone, kWrongType };

struct OpSpec {
  int builtin_code = kBuiltinConv2D;
  std::string custom_code;            // written for any op when non-empty
  bool deprecated_code_only = false;  // old files: builtin code only in deprecated_builtin_code
  std::vector<std::int32_t> inputs, outputs;
  OptionsKind options = OptionsKind::kMatching;
  fb::Padding padding = fb::Padding_SAME;
  int stride_h = 1, stride_w = 1;
  int dilation_h = 1, dilation_w = 1;
  fb::ActivationFunctionType activation = fb::ActivationFunctionType_NONE;
  int filter_h = 1, filter_w = 1;       // AVERAGE_POOL_2D only
  int depth_multiplier = 1;             // DEPTHWISE_CONV_2D only
  std::vector<std::int32_t> new_shape;  // RESHAPE only
  bool keep_num_dims = false;           // FULLY_CONNECTED only
  int weights_format = 0;               // FULLY_CONNECTED only
};

struct ModelSpec {
  std::string identifier = "TFL3";
  std::uint32_t version = 3;
  int num_subgraphs = 1;  // copies of the one subgraph
  std::vector<TensorSpec> tensors;
  std::vector<OpSpec> ops;
  std::vector<std::int32_t> inputs, outputs;
};

// Serialized model bytes, 8-byte aligned as Model::load requires.
class ModelBytes {
 public:
  explicit ModelBytes(const std::uint8_t* data, std::size_t size) : storage_((size + 7) / 8), size_(size) {
    if (size > 0) std::memcpy(storage_.data(), data, size);
  }
  const std::uint8_t* data() const { return reinterpret_cast<const std::uint8_t*>(storage_.data()); }
  std::uint8_t* data() { return reinterpret_cast<std::uint8_t*>(storage_.data()); }
  std::size_t size() const { return size_; }

 private:
  std::vector<std::uint64_t> storage_;
  std::size_t size_;
};

// A vector of int64 whose elements start at 4 mod 8, which flatbuffers' builder never produces
// but its verifier accepts (it checks only the 4-byte length field's alignment).
inline flatbuffers::Offset<flatbuffers::Vector<std::int64_t>> misaligned_int64_vector(
    flatbuffers::FlatBufferBuilder& b, const std::vector<std::int64_t>& values) {
  // The finished buffer's size is a multiple of 8, so an element written when GetSize() % 8 == 4
  // (counted from the end) lands at 4 mod 8 from the start.
  while (b.GetSize() % 8 != 4) b.PushElement<std::uint32_t>(0);
  b.StartVector(values.size(), sizeof(std::uint32_t));
  for (std::size_t i = values.size(); i-- > 0;) {  // back to front; little-endian halves
    const auto v = static_cast<std::uint64_t>(values[i]);
    b.PushElement<std::uint32_t>(static_cast<std::uint32_t>(v >> 32));
    b.PushElement<std::uint32_t>(static_cast<std::uint32_t>(v));
  }
  return flatbuffers::Offset<flatbuffers::Vector<std::int64_t>>(b.EndVector(values.size()));
}

inline ModelBytes build_model(const ModelSpec& spec) {
  flatbuffers::FlatBufferBuilder b(4096);

  // Buffers: 0 is the empty buffer (TFLite's convention); constant tensors get their own.
  std::vector<flatbuffers::Offset<fb::Buffer>> buffers{fb::CreateBuffer(b)};
  std::vector<std::uint32_t> tensor_buffer(spec.tensors.size(), 0);
  for (std::size_t t = 0; t < spec.tensors.size(); ++t) {
    const TensorSpec& x = spec.tensors[t];
    if (!x.data.empty()) {
      b.ForceVectorAlignment(x.data.size(), sizeof(std::uint8_t), 16);
      buffers.push_back(fb::CreateBuffer(b, b.CreateVector(x.data)));
      tensor_buffer[t] = static_cast<std::uint32_t>(buffers.size() - 1);
    }
    if (x.buffer >= 0) tensor_buffer[t] = static_cast<std::uint32_t>(x.buffer);
  }

  std::vector<flatbuffers::Offset<fb::Tensor>> tensors;
  for (std::size_t t = 0; t < spec.tensors.size(); ++t) {
    const TensorSpec& x = spec.tensors[t];
    flatbuffers::Offset<fb::QuantizationParameters> q = 0;
    if (x.has_quantization) {
      const auto scales = b.CreateVector(x.scales);
      const auto zero_points =
          x.misaligned_zero_points ? misaligned_int64_vector(b, x.zero_points) : b.CreateVector(x.zero_points);
      q = fb::CreateQuantizationParameters(b, scales, zero_points, x.quantized_dim);
    }
    tensors.push_back(
        fb::CreateTensor(b, b.CreateVector(x.shape), x.type, tensor_buffer[t], b.CreateString(x.name), q));
  }

  // One operator code per distinct (builtin, custom name, deprecated-only) triple.
  std::vector<flatbuffers::Offset<fb::OperatorCode>> codes;
  std::vector<const OpSpec*> code_of;
  std::vector<flatbuffers::Offset<fb::Operator>> ops;
  for (const OpSpec& op : spec.ops) {
    std::uint32_t code_index = 0;
    while (code_index < code_of.size() && !(code_of[code_index]->builtin_code == op.builtin_code &&
                                            code_of[code_index]->custom_code == op.custom_code &&
                                            code_of[code_index]->deprecated_code_only == op.deprecated_code_only))
      ++code_index;
    if (code_index == code_of.size()) {
      const auto deprecated = static_cast<std::int8_t>(op.builtin_code < 127 ? op.builtin_code : 127);
      codes.push_back(fb::CreateOperatorCode(b, deprecated, op.custom_code.empty() ? 0 : b.CreateString(op.custom_code),
                                             1, op.deprecated_code_only ? 0 : op.builtin_code));
      code_of.push_back(&op);
    }

    fb::BuiltinOptions type = fb::BuiltinOptions_NONE;
    flatbuffers::Offset<void> options = 0;
    const auto conv = [&] {
      type = fb::BuiltinOptions_Conv2DOptions;
      options =
          fb::CreateConv2DOptions(b, op.padding, op.stride_w, op.stride_h, op.activation, op.dilation_w, op.dilation_h)
              .Union();
    };
    const auto pool = [&] {
      type = fb::BuiltinOptions_Pool2DOptions;
      options =
          fb::CreatePool2DOptions(b, op.padding, op.stride_w, op.stride_h, op.filter_w, op.filter_h, op.activation)
              .Union();
    };
    if (op.options == OptionsKind::kMatching) {
      switch (op.builtin_code) {
        case kBuiltinConv2D:
          conv();
          break;
        case kBuiltinDepthwiseConv2D:
          type = fb::BuiltinOptions_DepthwiseConv2DOptions;
          options = fb::CreateDepthwiseConv2DOptions(b, op.padding, op.stride_w, op.stride_h, op.depth_multiplier,
                                                     op.activation, op.dilation_w, op.dilation_h)
                        .Union();
          break;
        case kBuiltinAveragePool2D:
          pool();
          break;
        case kBuiltinReshape:
          type = fb::BuiltinOptions_ReshapeOptions;
          options = fb::CreateReshapeOptions(b, b.CreateVector(op.new_shape)).Union();
          break;
        case kBuiltinFullyConnected:
          type = fb::BuiltinOptions_FullyConnectedOptions;
          options = fb::CreateFullyConnectedOptions(b, op.activation, static_cast<std::int8_t>(op.weights_format),
                                                    op.keep_num_dims)
                        .Union();
          break;
        case kBuiltinAdd:
          type = fb::BuiltinOptions_AddOptions;
          options = fb::CreateAddOptions(b, op.activation).Union();
          break;
        default:
          break;
      }
    } else if (op.options == OptionsKind::kWrongType) {
      if (op.builtin_code == kBuiltinAveragePool2D)
        conv();
      else
        pool();
    }
    ops.push_back(
        fb::CreateOperator(b, code_index, b.CreateVector(op.inputs), b.CreateVector(op.outputs), type, options));
  }

  const auto subgraph = fb::CreateSubGraph(b, b.CreateVector(tensors), b.CreateVector(spec.inputs),
                                           b.CreateVector(spec.outputs), b.CreateVector(ops), b.CreateString("main"));
  const std::vector<flatbuffers::Offset<fb::SubGraph>> subgraphs(static_cast<std::size_t>(spec.num_subgraphs),
                                                                 subgraph);
  const auto model = fb::CreateModel(b, spec.version, b.CreateVector(codes), b.CreateVector(subgraphs),
                                     b.CreateString("micronet-ad test model"), b.CreateVector(buffers));
  b.Finish(model, spec.identifier.size() == 4 ? spec.identifier.c_str() : nullptr);
  return ModelBytes(b.GetBufferPointer(), b.GetSize());
}

// ---- the tiny valid model ------------------------------------------------------------------

// Tensor and operator indices of tiny_model().
enum TinyTensor : int {
  kInput = 0,
  kConv0Weights,
  kConv0Bias,
  kConv0Out,
  kDwWeights,
  kDwBias,
  kDwOut,
  kPoolOut,
  kConv1Weights,
  kConv1Bias,
  kConv1Out,
  kReshapeShape,
  kOutput,
  kNumTinyTensors
};
enum TinyOp : int { kOpConv0 = 0, kOpDw, kOpPool, kOpConv1, kOpReshape, kNumTinyOps };

constexpr int kTinySize = 8;      // input is [1,8,8,1]
constexpr int kTinyChannels = 4;  // conv0 and depthwise
constexpr int kTinyClasses = 3;   // output is [1,3]

// Deterministic pseudo-random bytes (a 32-bit LCG), so the model is the same in every run.
class Lcg {
 public:
  explicit Lcg(std::uint32_t seed) : state_(seed) {}
  std::uint32_t next() { return state_ = state_ * 1664525u + 1013904223u; }
  int uniform(int lo, int hi) { return lo + static_cast<int>((next() >> 8) % static_cast<std::uint32_t>(hi - lo + 1)); }

 private:
  std::uint32_t state_;
};

inline std::vector<std::uint8_t> int8_data(std::size_t n, Lcg& rng) {
  std::vector<std::uint8_t> d(n);
  for (auto& v : d) v = static_cast<std::uint8_t>(static_cast<std::int8_t>(rng.uniform(-127, 127)));
  return d;
}

inline std::vector<std::uint8_t> int32_data(const std::vector<std::int32_t>& values) {
  std::vector<std::uint8_t> d(values.size() * 4);
  std::memcpy(d.data(), values.data(), d.size());
  return d;
}

inline TensorSpec activation(const std::string& name, std::vector<std::int32_t> shape, float scale, std::int64_t zp) {
  TensorSpec t;
  t.name = name;
  t.shape = std::move(shape);
  t.scales = {scale};
  t.zero_points = {zp};
  return t;
}

// Per-channel int8 weights along `quantized_dim`, all zero points 0.
inline TensorSpec weights(const std::string& name, std::vector<std::int32_t> shape, std::vector<float> scales,
                          int quantized_dim, Lcg& rng) {
  TensorSpec t;
  t.name = name;
  std::size_t n = 1;
  for (auto d : shape) n *= static_cast<std::size_t>(d);
  t.shape = std::move(shape);
  t.zero_points.assign(scales.size(), 0);
  t.scales = std::move(scales);
  t.quantized_dim = quantized_dim;
  t.data = int8_data(n, rng);
  return t;
}

// int32 bias quantized as TFLite does: scale = input scale · weight scale, zero point 0.
inline TensorSpec bias(const std::string& name, float input_scale, const std::vector<float>& weight_scales, Lcg& rng) {
  TensorSpec t;
  t.name = name;
  t.type = fb::TensorType_INT32;
  t.shape = {static_cast<std::int32_t>(weight_scales.size())};
  std::vector<std::int32_t> values;
  for (float s : weight_scales) {
    t.scales.push_back(input_scale * s);
    t.zero_points.push_back(0);
    values.push_back(rng.uniform(-4000, 4000));
  }
  t.data = int32_data(values);
  return t;
}

inline ModelSpec tiny_model() {
  Lcg rng(20240601u);
  constexpr float kInScale = 0.05f, kConv0Scale = 6.0f / 255.0f, kDwScale = 0.08f, kConv1Scale = 0.04f;
  const std::vector<float> conv0_w{0.0021f, 0.0017f, 0.0025f, 0.0019f};
  const std::vector<float> dw_w{0.011f, 0.009f, 0.013f, 0.010f};
  const std::vector<float> conv1_w{0.012f, 0.015f, 0.010f};
  const int n = kTinySize, c = kTinyChannels, k = kTinyClasses;

  ModelSpec m;
  m.tensors.resize(kNumTinyTensors);
  m.tensors[kInput] = activation("input", {1, n, n, 1}, kInScale, 3);
  m.tensors[kConv0Weights] = weights("conv0/weights", {c, 3, 3, 1}, conv0_w, 0, rng);
  m.tensors[kConv0Bias] = bias("conv0/bias", kInScale, conv0_w, rng);
  m.tensors[kConv0Out] = activation("conv0", {1, n, n, c}, kConv0Scale, -128);
  m.tensors[kDwWeights] = weights("dw/weights", {1, 3, 3, c}, dw_w, 3, rng);
  m.tensors[kDwBias] = bias("dw/bias", kConv0Scale, dw_w, rng);
  m.tensors[kDwOut] = activation("dw", {1, n / 2, n / 2, c}, kDwScale, -20);
  m.tensors[kPoolOut] = activation("pool", {1, 1, 1, c}, kDwScale, -20);
  m.tensors[kConv1Weights] = weights("conv1/weights", {k, 1, 1, c}, conv1_w, 0, rng);
  m.tensors[kConv1Bias] = bias("conv1/bias", kDwScale, conv1_w, rng);
  m.tensors[kConv1Out] = activation("conv1", {1, 1, 1, k}, kConv1Scale, 5);
  m.tensors[kReshapeShape].name = "shape";
  m.tensors[kReshapeShape].type = fb::TensorType_INT32;
  m.tensors[kReshapeShape].shape = {2};
  m.tensors[kReshapeShape].has_quantization = false;
  m.tensors[kReshapeShape].data = int32_data({1, k});
  m.tensors[kOutput] = activation("Identity", {1, k}, kConv1Scale, 5);

  m.ops.resize(kNumTinyOps);
  OpSpec& conv0 = m.ops[kOpConv0];
  conv0.builtin_code = kBuiltinConv2D;
  conv0.inputs = {kInput, kConv0Weights, kConv0Bias};
  conv0.outputs = {kConv0Out};
  conv0.activation = fb::ActivationFunctionType_RELU6;

  OpSpec& dw = m.ops[kOpDw];
  dw.builtin_code = kBuiltinDepthwiseConv2D;
  dw.inputs = {kConv0Out, kDwWeights, kDwBias};
  dw.outputs = {kDwOut};
  dw.stride_h = dw.stride_w = 2;
  dw.activation = fb::ActivationFunctionType_RELU;

  OpSpec& pool = m.ops[kOpPool];
  pool.builtin_code = kBuiltinAveragePool2D;
  pool.inputs = {kDwOut};
  pool.outputs = {kPoolOut};
  pool.padding = fb::Padding_VALID;
  pool.filter_h = pool.filter_w = n / 2;

  OpSpec& conv1 = m.ops[kOpConv1];
  conv1.builtin_code = kBuiltinConv2D;
  conv1.inputs = {kPoolOut, kConv1Weights, kConv1Bias};
  conv1.outputs = {kConv1Out};

  OpSpec& reshape = m.ops[kOpReshape];
  reshape.builtin_code = kBuiltinReshape;
  reshape.inputs = {kConv1Out, kReshapeShape};
  reshape.outputs = {kOutput};
  reshape.new_shape = {1, k};

  m.inputs = {kInput};
  m.outputs = {kOutput};
  return m;
}

// ---- the keyword-spotting-style DS-CNN ------------------------------------------------------------

enum KwsTensor : int {
  kKwsInput = 0,
  kKwsConv0Weights,
  kKwsConv0Bias,
  kKwsConv0Out,
  kKwsDwWeights,
  kKwsDwBias,
  kKwsDwOut,
  kKwsPwWeights,
  kKwsPwBias,
  kKwsPwOut,
  kKwsAddOut,
  kKwsPoolOut,
  kKwsShape,
  kKwsFlat,
  kKwsFcWeights,
  kKwsFcBias,
  kKwsOutput,
  kNumKwsTensors
};
enum KwsOp : int { kKwsOpConv0 = 0, kKwsOpDw, kKwsOpPw, kKwsOpAdd, kKwsOpPool, kKwsOpReshape, kKwsOpFc, kNumKwsOps };

constexpr int kKwsChannels = 8;
constexpr int kKwsClasses = 4;

inline ModelSpec kws_model() {
  Lcg rng(20261201u);
  const int c = kKwsChannels, k = kKwsClasses;
  constexpr float kIn = 0.1f, kConv0 = 6.0f / 255.0f, kDw = 0.06f, kPw = 0.07f, kAdd = 0.09f, kFc = 0.12f;
  std::vector<float> conv0_w, dw_w, pw_w, fc_w;
  for (int i = 0; i < c; ++i) {
    conv0_w.push_back(0.002f + 0.0003f * static_cast<float>(i));
    dw_w.push_back(0.009f + 0.001f * static_cast<float>(i));
    pw_w.push_back(0.011f - 0.0007f * static_cast<float>(i));
  }
  for (int i = 0; i < k; ++i) fc_w.push_back(0.010f + 0.002f * static_cast<float>(i));

  ModelSpec m;
  m.tensors.resize(kNumKwsTensors);
  m.tensors[kKwsInput] = activation("input", {1, 16, 8, 1}, kIn, -10);
  m.tensors[kKwsConv0Weights] = weights("conv0/weights", {c, 3, 3, 1}, conv0_w, 0, rng);
  m.tensors[kKwsConv0Bias] = bias("conv0/bias", kIn, conv0_w, rng);
  m.tensors[kKwsConv0Out] = activation("conv0", {1, 8, 4, c}, kConv0, -128);
  m.tensors[kKwsDwWeights] = weights("dw/weights", {1, 3, 3, c}, dw_w, 3, rng);
  m.tensors[kKwsDwBias] = bias("dw/bias", kConv0, dw_w, rng);
  m.tensors[kKwsDwOut] = activation("dw", {1, 8, 4, c}, kDw, -128);
  m.tensors[kKwsPwWeights] = weights("pw/weights", {c, 1, 1, c}, pw_w, 0, rng);
  m.tensors[kKwsPwBias] = bias("pw/bias", kDw, pw_w, rng);
  m.tensors[kKwsPwOut] = activation("pw", {1, 8, 4, c}, kPw, 4);
  m.tensors[kKwsAddOut] = activation("residual", {1, 8, 4, c}, kAdd, -100);
  m.tensors[kKwsPoolOut] = activation("pool", {1, 1, 1, c}, kAdd, -100);
  m.tensors[kKwsShape].name = "shape";
  m.tensors[kKwsShape].type = fb::TensorType_INT32;
  m.tensors[kKwsShape].shape = {2};
  m.tensors[kKwsShape].has_quantization = false;
  m.tensors[kKwsShape].data = int32_data({1, c});
  m.tensors[kKwsFlat] = activation("flat", {1, c}, kAdd, -100);
  m.tensors[kKwsFcWeights] = weights("fc/weights", {k, c}, fc_w, 0, rng);
  m.tensors[kKwsFcBias] = bias("fc/bias", kAdd, fc_w, rng);
  m.tensors[kKwsOutput] = activation("Identity", {1, k}, kFc, 3);

  m.ops.resize(kNumKwsOps);
  OpSpec& conv0 = m.ops[kKwsOpConv0];
  conv0.builtin_code = kBuiltinConv2D;
  conv0.inputs = {kKwsInput, kKwsConv0Weights, kKwsConv0Bias};
  conv0.outputs = {kKwsConv0Out};
  conv0.stride_h = conv0.stride_w = 2;
  conv0.activation = fb::ActivationFunctionType_RELU6;

  OpSpec& dw = m.ops[kKwsOpDw];
  dw.builtin_code = kBuiltinDepthwiseConv2D;
  dw.inputs = {kKwsConv0Out, kKwsDwWeights, kKwsDwBias};
  dw.outputs = {kKwsDwOut};
  dw.activation = fb::ActivationFunctionType_RELU;

  OpSpec& pw = m.ops[kKwsOpPw];
  pw.builtin_code = kBuiltinConv2D;
  pw.inputs = {kKwsDwOut, kKwsPwWeights, kKwsPwBias};
  pw.outputs = {kKwsPwOut};

  OpSpec& add = m.ops[kKwsOpAdd];
  add.builtin_code = kBuiltinAdd;
  add.inputs = {kKwsConv0Out, kKwsPwOut};
  add.outputs = {kKwsAddOut};
  add.activation = fb::ActivationFunctionType_RELU;

  OpSpec& pool = m.ops[kKwsOpPool];
  pool.builtin_code = kBuiltinAveragePool2D;
  pool.inputs = {kKwsAddOut};
  pool.outputs = {kKwsPoolOut};
  pool.padding = fb::Padding_VALID;
  pool.filter_h = 8;
  pool.filter_w = 4;

  OpSpec& reshape = m.ops[kKwsOpReshape];
  reshape.builtin_code = kBuiltinReshape;
  reshape.inputs = {kKwsPoolOut, kKwsShape};
  reshape.outputs = {kKwsFlat};
  reshape.new_shape = {1, c};

  OpSpec& fc = m.ops[kKwsOpFc];
  fc.builtin_code = kBuiltinFullyConnected;
  fc.inputs = {kKwsFlat, kKwsFcWeights, kKwsFcBias};
  fc.outputs = {kKwsOutput};

  m.inputs = {kKwsInput};
  m.outputs = {kKwsOutput};
  return m;
}

}  // namespace micronet_ad::test
