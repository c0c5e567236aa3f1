// ADD: int8 elementwise sum of two activations of the same shape (no broadcasting), with TFLite's
// int8 arithmetic (left shift 20, input and output multipliers; docs/arithmetic.md#add).
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "kernels/reference/reference.h"
#include "ops/op_checker.h"
#include "ops/op_table.h"
#include "quant/quantization.h"

namespace micronet_ad::ops {
namespace {

constexpr int kLeftShift = 20;

// TFLite's add.cc Prepare for int8: the inputs are brought to twice the larger input scale.
void real_multipliers(float s1, float s2, float s_out, double real[3]) {
  const double twice_max = 2.0 * static_cast<double>(std::max(s1, s2));
  real[0] = static_cast<double>(s1) / twice_max;
  real[1] = static_cast<double>(s2) / twice_max;
  real[2] = twice_max / (static_cast<double>(1 << kLeftShift) * static_cast<double>(s_out));
}

Status validate(const OpChecker& check, OperatorInfo* info) {
  const int a = info->inputs[0], b = info->inputs[1], y = info->output;
  Status s = check.activation(a, "input", 0);
  if (!s) return s;
  s = check.activation(b, "input", 0);
  if (!s) return s;
  s = check.activation(y, "output", 0);
  if (!s) return s;
  auto shape = [&](int t, char* out, std::size_t n) {
    int used = std::snprintf(out, n, "[");
    for (int d = 0; d < check.rank(t); ++d)
      used += std::snprintf(out + used, n - static_cast<std::size_t>(used), d ? ",%d" : "%d", check.dim(t, d));
    std::snprintf(out + used, n - static_cast<std::size_t>(used), "]");
  };
  auto same = [&](int t, int u) {
    if (check.rank(t) != check.rank(u)) return false;
    for (int d = 0; d < check.rank(t); ++d)
      if (check.dim(t, d) != check.dim(u, d)) return false;
    return true;
  };
  char sa[64], sb[64];
  if (!same(a, b)) {
    shape(a, sa, sizeof(sa));
    shape(b, sb, sizeof(sb));
    return check.fail("input shapes %s and %s differ; broadcasting is not supported", sa, sb);
  }
  if (!same(a, y)) {
    shape(y, sa, sizeof(sa));
    shape(a, sb, sizeof(sb));
    return check.fail("output tensor %d has shape %s, expected %s", y, sa, sb);
  }
  const fb::AddOptions* o = check.op()->builtin_options_as_AddOptions();
  if (o == nullptr) return check.fail("AddOptions are missing");
  double real[3];
  real_multipliers(check.tensor(a)->quantization()->scale()->Get(0), check.tensor(b)->quantization()->scale()->Get(0),
                   check.tensor(y)->quantization()->scale()->Get(0), real);
  std::int32_t significand = 0;
  int shift = 0;
  quant::quantize_multiplier(real[2], &significand, &shift);
  if (!std::isfinite(real[2]) || shift > 0)
    return check.fail("output multiplier %g (2 x larger input scale / (2^20 x output scale)) is not below 1", real[2]);
  return check.activation_function(o->fused_activation_function(), &info->activation);
}

void prepare(const Model& model, const OperatorInfo& op, kernels::PreparedOp* p) {
  prepare_offsets(model, op, p);
  p->input2_offset = -model.tensor(op.inputs[1]).zero_point;
}

int multiplier_count(const Model&, const OperatorInfo&) { return 3; }

// [0]: input 1, [1]: input 2, [2]: output.
void fill_multipliers(const Model& model, const OperatorInfo& op, int count, int stride, std::int32_t* multipliers,
                      std::int32_t* shifts) {
  double real[3];
  real_multipliers(model.tensor(op.inputs[0]).scale(), model.tensor(op.inputs[1]).scale(),
                   model.tensor(op.output).scale(), real);
  for (int k = 0; k < stride; ++k) {
    multipliers[k] = 0;
    shifts[k] = 0;
    if (k >= count) continue;
    int shift = 0;
    quant::quantize_multiplier(real[k], &multipliers[k], &shift);
    shifts[k] = shift;
  }
}

void invoke(const InvokeArgs& a) {
  kernels::AddParams params;
  params.input1_offset = a.p->input_offset;
  params.input2_offset = a.p->input2_offset;
  params.output_offset = a.p->output_offset;
  params.left_shift = kLeftShift;
  params.input1_multiplier = a.p->multipliers[0];
  params.input1_shift = a.p->shifts[0];
  params.input2_multiplier = a.p->multipliers[1];
  params.input2_shift = a.p->shifts[1];
  params.output_multiplier = a.p->multipliers[2];
  params.output_shift = a.p->shifts[2];
  params.act_min = a.p->act_min;
  params.act_max = a.p->act_max;
  kernels::reference::add(params, a.y_bytes, a.x, a.x2, a.y);
}

}  // namespace

// The row keeps its fields grouped as OpDef (op_table.h) declares them.
// clang-format off
const OpDef kAddDef = {
    OpType::kAdd, 0, "ADD",
    /*min_inputs=*/2, /*max_inputs=*/2, /*optional_input=*/-1, /*activation_inputs=*/2,
    /*channel_params=*/false, /*weights_quantized_dim=*/0,
    /*window=*/false, /*fused_activation=*/true, /*output_aliases_input=*/false, KernelList::kNone,
    validate, no_macs, prepare, multiplier_count, fill_multipliers, invoke};
// clang-format on

}  // namespace micronet_ad::ops
