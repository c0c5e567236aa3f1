// The operators the engine runs: one row each, in one static table (op_table.cc). Loading,
// validation, MAC counting, `inspect`, the interpreter's preparation and dispatch all read this
// row; an operator's code lives in its own file, src/core/ops/<op>.cc. No heap, no virtual calls.
//
// Adding an operator: an OpType value, a file here defining its OpDef, one line in op_table.cc
// (docs/ARCHITECTURE.md#adding-an-operator).
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/kernel_params.h"
#include "kernels/prepared_op.h"
#include "micronet_ad/model.h"

namespace micronet_ad::ops {

class OpChecker;  // ops/op_checker.h: the flatbuffer view of one operator while it is validated

// Which list of a kernel level (kernels/level.h) may hold a faster kernel for the op.
enum class KernelList : std::uint8_t { kNone, kConv, kDepthwise, kAveragePool };

// What the interpreter hands an op's invoke().
struct InvokeArgs {
  const Model* model;
  const OperatorInfo* op;
  const kernels::PreparedOp* p;
  const kernels::ConvGeometry* conv;  // KernelList kConv/kDepthwise: the layer's geometry or a row band of it
  const std::int8_t* x;               // input 0 (an activation)
  const std::int8_t* x2;              // input 1 when the op has two activation inputs, else nullptr
  std::int8_t* y;
  std::size_t y_bytes;
  void* scratch;  // the level kernels' shared scratch
};

struct OpDef {
  OpType type;
  int builtin_code;  // TFLite's BuiltinOperator
  const char* name;  // TFLite's name
  int min_inputs, max_inputs;
  int optional_input;     // index of an input that may be -1 (a bias), or -1
  int activation_inputs;  // inputs [0, n) are activations, written by earlier ops; the rest are operands
  bool channel_params;    // inputs 1 (int8 weights, per-tensor or per-channel along weights_quantized_dim)
                          // and 2 (int32 bias) are parameters; one multiplier per output channel
  int weights_quantized_dim;
  bool window;                // filter, stride, padding fields of OperatorInfo are meaningful
  bool fused_activation;      // OperatorInfo::activation is meaningful
  bool output_aliases_input;  // the output shares input 0's bytes in the arena (RESHAPE)
  KernelList kernels;

  // The op's checks once the generic ones passed (arity, tensor indices, input 0 written by an
  // earlier op, output written once). Fills `info` (all but macs); every failure is check.fail().
  Status (*validate)(const OpChecker& check, OperatorInfo* info);
  std::int64_t (*macs)(const Model& model, const OperatorInfo& op);
  // Offsets, activation range, padding (Interpreter::init).
  void (*prepare)(const Model& model, const OperatorInfo& op, kernels::PreparedOp* p);
  // Requantization multipliers the op needs at init: how many, and filling them (entries past
  // `count` up to `stride` are zero; stride ≥ count pads for vector loads). nullptr: none.
  int (*multiplier_count)(const Model& model, const OperatorInfo& op);
  void (*fill_multipliers)(const Model& model, const OperatorInfo& op, int count, int stride, std::int32_t* multipliers,
                           std::int32_t* shifts);
  // Runs the op: the level's kernel chosen at init (p->conv, p->pool) if any, else the reference kernel.
  void (*invoke)(const InvokeArgs& args);
};

const OpDef* const* table(int* count);
const OpDef& def(OpType type);
const OpDef* find_builtin(int builtin_code);  // nullptr: not an operator the engine runs
// "CONV_2D, DEPTHWISE_CONV_2D, …, FULLY_CONNECTED and ADD" from the table: for the refusal of
// anything else.
void supported_list(char* out, std::size_t size);

// Shared by several ops (ops/common.cc).
void prepare_offsets(const Model& model, const OperatorInfo& op, kernels::PreparedOp* p);  // offsets, act range
void prepare_window(const Model& model, const OperatorInfo& op, kernels::PreparedOp* p);   // + SAME/VALID padding
// Per-channel multipliers: in_scale · w_scale[c] / out_scale, combined in double (docs/arithmetic.md).
void fill_channel_multipliers(const Model& model, const OperatorInfo& op, int count, int stride,
                              std::int32_t* multipliers, std::int32_t* shifts);
int output_channels(const Model& model, const OperatorInfo& op);  // the output's last dimension
kernels::Requantization requantization(const kernels::PreparedOp& p);
const std::int8_t* weights_of(const Model& model, const OperatorInfo& op);
const std::int32_t* bias_of(const Model& model, const OperatorInfo& op);
std::int64_t no_macs(const Model& model, const OperatorInfo& op);

extern const OpDef kConv2DDef;
extern const OpDef kDepthwiseConv2DDef;
extern const OpDef kAveragePool2DDef;
extern const OpDef kReshapeDef;
extern const OpDef kFullyConnectedDef;
extern const OpDef kAddDef;

}  // namespace micronet_ad::ops
