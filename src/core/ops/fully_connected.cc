// FULLY_CONNECTED: int8 input of any shape read as [batches, depth], int8 weights [units, depth]
// (per-tensor, or per-channel along dimension 0), optional int32 bias [units], output
// [batches, units] (keep_num_dims false), fused activation.
#include "kernels/reference/reference.h"
#include "ops/op_checker.h"
#include "ops/op_table.h"

namespace micronet_ad::ops {
namespace {

Status validate(const OpChecker& check, OperatorInfo* info) {
  const int x = info->inputs[0], w = info->inputs[1], y = info->output;
  Status s = check.activation(x, "input", 0);
  if (!s) return s;
  s = check.activation(y, "output", 2);
  if (!s) return s;
  const fb::FullyConnectedOptions* o = check.op()->builtin_options_as_FullyConnectedOptions();
  if (o == nullptr) return check.fail("FullyConnectedOptions are missing");
  if (o->weights_format() != 0)
    return check.fail("weights format %d is not supported (only DEFAULT)", static_cast<int>(o->weights_format()));
  if (o->keep_num_dims())
    return check.fail("keep_num_dims is true; only false (a [batches, units] output) is supported");
  if (check.rank(w) != 2) return check.fail("weights tensor %d has rank %d, expected 2", w, check.rank(w));
  const int units = check.dim(w, 0), depth = check.dim(w, 1);
  s = check.weights(w, units, 0, check.is_const(w));
  if (!s) return s;
  if (depth > kMaxAccumulatedTerms) return check.fail("weights depth %d is too large for an int32 accumulator", depth);
  const std::int64_t in_elements = check.elements(x);
  if (in_elements % depth != 0)
    return check.fail("input has %lld elements, not a multiple of the weights' depth %d",
                      static_cast<long long>(in_elements), depth);
  const std::int64_t batches = in_elements / depth;
  if (check.dim(y, 0) != batches || check.dim(y, 1) != units)
    return check.fail("output tensor %d has shape [%d,%d], expected [%lld,%d]", y, check.dim(y, 0), check.dim(y, 1),
                      static_cast<long long>(batches), units);
  if (info->num_inputs == 3 && info->inputs[2] >= 0) {
    s = check.bias(info->inputs[2], units, check.is_const(info->inputs[2]));
    if (!s) return s;
  }
  s = check.multipliers(x, w, y);
  if (!s) return s;
  return check.activation_function(o->fused_activation_function(), &info->activation);
}

// Every output unit of every batch takes `depth` products.
std::int64_t macs(const Model& model, const OperatorInfo& op) {
  return model.tensor(op.output).shape.elements() * model.tensor(op.inputs[1]).shape.dims[1];
}

void invoke(const InvokeArgs& a) {
  const TensorInfo w = a.model->tensor(a.op->inputs[1]);
  const TensorInfo y = a.model->tensor(a.op->output);
  kernels::reference::fully_connected(y.shape.dims[0], w.shape.dims[1], w.shape.dims[0], requantization(*a.p), a.x,
                                      weights_of(*a.model, *a.op), bias_of(*a.model, *a.op), a.y);
}

}  // namespace

// The row keeps its fields grouped as OpDef (op_table.h) declares them.
// clang-format off
const OpDef kFullyConnectedDef = {
    OpType::kFullyConnected, 9, "FULLY_CONNECTED",
    /*min_inputs=*/2, /*max_inputs=*/3, /*optional_input=*/2, /*activation_inputs=*/1,
    /*channel_params=*/true, /*weights_quantized_dim=*/0,
    /*window=*/false, /*fused_activation=*/true, /*output_aliases_input=*/false, KernelList::kNone,
    validate, macs, prepare_offsets, output_channels, fill_channel_multipliers, invoke};
// clang-format on

}  // namespace micronet_ad::ops
