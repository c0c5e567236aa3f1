// Everything needed to check one operator of the flatbuffer, with the operator named in every
// message: "operator 3 (CONV_2D): …". Used by Model::validate and the ops' validate functions.
#pragma once

#include <cstdint>

#include "micronet_ad/model.h"
#include "tflite_subset_generated.h"

namespace micronet_ad::ops {

namespace fb = tflite_subset;

constexpr std::int64_t kMaxAccumulatedTerms = 65536;  // keeps Σ(x−zp)·w inside int32: 65536·255·128 < 2^31
constexpr std::int64_t kMaxPoolWindow = std::int64_t{1} << 23;  // keeps the pool sum inside int32

const char* type_name(fb::TensorType t);

class OpChecker {
 public:
  OpChecker(const fb::SubGraph* graph, const fb::Operator* op, int op_index, const char* op_name, const bool* is_const)
      : graph_(graph), op_(op), index_(op_index), name_(op_name), is_const_(is_const) {}

  Status fail(const char* fmt, ...) const
#if defined(__GNUC__)
      __attribute__((format(printf, 2, 3)))
#endif
      ;

  const fb::Operator* op() const { return op_; }
  const fb::Tensor* tensor(int t) const { return graph_->tensors()->Get(static_cast<flatbuffers::uoffset_t>(t)); }
  bool is_const(int t) const { return is_const_[t]; }
  int num_tensors() const { return static_cast<int>(graph_->tensors()->size()); }
  int rank(int t) const { return tensor(t)->shape() ? static_cast<int>(tensor(t)->shape()->size()) : 0; }
  int dim(int t, int d) const {
    return static_cast<int>(tensor(t)->shape()->Get(static_cast<flatbuffers::uoffset_t>(d)));
  }
  std::int64_t elements(int t) const;

  // Checks an int8 activation tensor of the given rank (0: any) with one scale and zero point.
  Status activation(int t, const char* role, int rank) const;
  Status per_tensor_quantization(int t, const char* role) const;
  // The NHWC window ops' input x and output y: rank-4 int8 activations with the same batch.
  Status nhwc_input_output(int x, int y) const;
  // Checks per-channel (or per-tensor) int8 weights: constant, zero points 0, positive scales.
  Status weights(int t, int channels, int quantized_dim, bool is_const) const;
  // Each channel's requantization multiplier in_scale · w_scale / out_scale must encode with a
  // shift of at most 30: TFLite's kernels shift the accumulator left by it, and more overflows.
  Status multipliers(int x, int w, int y) const;
  Status bias(int t, int channels, bool is_const) const;
  // TFLite's fused activation as ours, or a failure naming it.
  Status activation_function(fb::ActivationFunctionType act, Activation* out) const;
  // The tail shared by CONV_2D, DEPTHWISE_CONV_2D and AVERAGE_POOL_2D: stride, dilation, padding,
  // activation and the output shape [batches, out_h, out_w, out_c] from SAME/VALID geometry.
  Status window(fb::Padding padding, fb::ActivationFunctionType act, int out_c, OperatorInfo* info) const;

 private:
  const fb::SubGraph* graph_;
  const fb::Operator* op_;
  int index_;
  const char* name_;
  const bool* is_const_;
};

}  // namespace micronet_ad::ops
