// micronet-ad: a validated, planned view of an int8 TensorFlow Lite model.
//
// Model::load verifies the flatbuffer, checks every tensor and operator the engine will touch,
// and plans the activation arena. The Model holds no copies of weights: the caller keeps the
// file bytes alive for as long as the Model is used. No heap, no I/O.
#pragma once

#include <cstddef>
#include <cstdint>

#include "micronet_ad/status.h"

namespace micronet_ad {

constexpr int kMaxTensors = 256;
constexpr int kMaxOperators = 128;
constexpr int kMaxRank = 4;
constexpr std::size_t kArenaAlignment = 16;

// The operators the engine runs; each has one row in src/core/ops/op_table.cc, in this order.
enum class OpType : std::uint8_t { kConv2D, kDepthwiseConv2D, kAveragePool2D, kReshape, kFullyConnected, kAdd };
enum class Padding : std::uint8_t { kSame, kValid };
enum class Activation : std::uint8_t { kNone, kRelu, kReluN1To1, kRelu6 };
enum class ElementType : std::uint8_t { kInt8, kInt32 };

const char* op_name(OpType type);  // TFLite's name, e.g. "DEPTHWISE_CONV_2D"

// What an operator's row in the op table (src/core/ops/op_table.h) says about its OperatorInfo.
struct OpTraits {
  bool window;            // filter, stride and padding are meaningful
  bool fused_activation;  // activation is meaningful
  bool weights;           // inputs[1] are int8 weights and inputs[2] an optional int32 bias
};
OpTraits op_traits(OpType type);
const char* padding_name(Padding padding);
const char* activation_name(Activation activation);

struct Shape {
  int rank = 0;
  std::int32_t dims[kMaxRank] = {0, 0, 0, 0};
  std::int64_t elements() const;
};

struct TensorInfo {
  int index = -1;
  const char* name = "";
  Shape shape;
  ElementType type = ElementType::kInt8;
  std::size_t bytes = 0;
  // Quantization: scales[0..num_scales) (one per tensor, or one per channel of `quantized_dim`).
  const float* scales = nullptr;  // points into the model bytes (4-byte aligned by flatbuffers)
  int num_scales = 0;
  std::int32_t zero_point = 0;  // first zero point; per-channel weights have all zero points 0
  int quantized_dim = 0;
  const std::uint8_t* data = nullptr;  // constant data (weights, bias), else nullptr
  float scale() const { return num_scales > 0 ? scales[0] : 0.0f; }
};

struct OperatorInfo {
  OpType type = OpType::kConv2D;
  // inputs: activation, then weights and bias for convolutions and FULLY_CONNECTED (bias may be
  // -1), shape for reshape, the second activation for ADD
  int inputs[3] = {-1, -1, -1};
  int num_inputs = 0;
  int output = -1;
  Padding padding = Padding::kSame;
  Activation activation = Activation::kNone;
  int stride_h = 1, stride_w = 1;
  int dilation_h = 1, dilation_w = 1;
  int filter_h = 1, filter_w = 1;
  int depth_multiplier = 1;
  std::int64_t macs = 0;  // multiply-accumulates per inference
};

// A closed range of int8 values.
struct Int8Range {
  std::int32_t min = -128;
  std::int32_t max = 127;
};

// Where one tensor lives while the graph runs.
struct TensorPlan {
  std::int32_t arena_offset = -1;  // -1: constant or unused
  std::int32_t size = 0;           // bytes (activations only)
  std::int16_t first_op = -1;      // op that writes it (-1: graph input)
  std::int16_t last_op = -1;       // last op that reads it (num_ops: graph output)
  std::int16_t alias_of = -1;      // RESHAPE output sharing its input's bytes
};

class Model {
 public:
  // Verifies and validates `data` (a .tflite file in memory) and plans the arena. On error the
  // message names the file part that is wrong. `data` must stay alive while the Model is used.
  static Status load(const std::uint8_t* data, std::size_t size, Model* out);

  int num_tensors() const { return num_tensors_; }
  int num_operators() const { return num_operators_; }
  int input_tensor() const { return input_; }
  int output_tensor() const { return output_; }
  // The window embedding (docs/enrolment.md): the activation the last CONV_2D reads —
  // for the MicroNet models the pooled features the 1x1 classifier sees. −1 when the model has
  // no CONV_2D. The planner keeps it alive until invoke() returns, so it can be read afterwards.
  int embedding_tensor() const { return embedding_; }
  TensorInfo tensor(int index) const;  // index must be in [0, num_tensors())
  const OperatorInfo& op(int index) const { return ops_[index]; }
  // The values operator `index`'s output can take: the clamp of its fused activation for its
  // output's scale and zero point (docs/arithmetic.md#activation-range), [-128, 127] for NONE.
  // Outputs piling up at an end of it are saturated.
  Int8Range output_range(int index) const;
  const TensorPlan& plan(int tensor_index) const { return plans_[tensor_index]; }

  std::size_t arena_bytes() const { return arena_bytes_; }
  // The least any layer-at-a-time schedule can use: the largest set of activations alive at once.
  std::size_t arena_lower_bound() const { return arena_lower_bound_; }
  std::int64_t total_macs() const;
  std::size_t parameter_bytes() const { return parameter_bytes_; }  // unique constant buffers
  std::size_t parameter_count() const { return parameter_count_; }  // their elements
  std::uint32_t schema_version() const { return schema_version_; }
  const std::uint8_t* bytes() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  Status validate();
  Status validate_tensors(bool* is_const);
  Status validate_io(const bool* is_const);
  Status validate_operators(const bool* is_const, bool* written);
  void count_parameters(const bool* is_const, const bool* written);
  Status plan_arena();

  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
  const void* subgraph_ = nullptr;  // tflite_subset::SubGraph
  const void* buffers_ = nullptr;   // flatbuffers vector of tflite_subset::Buffer
  std::uint32_t schema_version_ = 0;
  int num_tensors_ = 0;
  int num_operators_ = 0;
  int input_ = -1;
  int output_ = -1;
  int embedding_ = -1;
  std::size_t arena_bytes_ = 0;
  std::size_t arena_lower_bound_ = 0;
  std::size_t parameter_bytes_ = 0;
  std::size_t parameter_count_ = 0;
  OperatorInfo ops_[kMaxOperators];
  TensorPlan plans_[kMaxTensors];
};

}  // namespace micronet_ad
