#include "plan/band_fusion.h"

#include "ops/op_table.h"
#include "plan/arena_planner.h"

namespace micronet_ad::plan {
namespace {

bool is_convolution(const OperatorInfo& op) {
  const ops::KernelList list = ops::def(op.type).kernels;
  return list == ops::KernelList::kConv || list == ops::KernelList::kDepthwise;
}

// Activations only, to keep the planning scratch small (it lives on the stack, and a firmware's
// stack is a few KB): the graph input at index 0, then op i's output at i + 1 (each op writes
// exactly one tensor, and only ops write tensors).
constexpr int kMaxActivations = kMaxOperators + 1;
int activation_index(const Model& model, int tensor) { return model.plan(tensor).first_op + 1; }
int activation_tensor(const Model& model, int k) { return k == 0 ? model.input_tensor() : model.op(k - 1).output; }

// The model's plans with every pair in `fusion` applied: T shrinks to its band (same lifetime)
// and A's input stays alive through B, which is when A's rows are computed.
Status plan_fused(const Model& model, const BandFusion& fusion, TensorPlan* plans, std::size_t* arena_bytes,
                  std::size_t* lower_bound) {
  const int n = model.num_operators() + 1;
  for (int k = 0; k < n; ++k) {
    plans[k] = model.plan(activation_tensor(model, k));
    if (plans[k].alias_of >= 0)
      plans[k].alias_of = static_cast<std::int16_t>(activation_index(model, plans[k].alias_of));
  }
  for (int b = 1; b < model.num_operators(); ++b) {
    if (fusion.band_rows[b] == 0) continue;
    const OperatorInfo& a = model.op(b - 1);
    const Shape& s = model.tensor(a.output).shape;
    plans[b].size = fusion.band_rows[b] * s.dims[2] * s.dims[3];  // activation b is op b − 1's output
    TensorPlan& a_input = plans[activation_index(model, a.inputs[0])];
    if (a_input.last_op < b) a_input.last_op = static_cast<std::int16_t>(b);
  }
  return plan_arena(plans, n, model.num_operators(), arena_bytes, lower_bound);
}

bool in_pair(const BandFusion& fusion, const Model& model, int op) {
  return fusion.band_rows[op] > 0 || (op + 1 < model.num_operators() && fusion.band_rows[op + 1] > 0);
}

}  // namespace

int band_rows_for_pair(const Model& model, int a) {
  const int b = a + 1;
  if (a < 0 || b >= model.num_operators()) return 0;
  const OperatorInfo& op_a = model.op(a);
  const OperatorInfo& op_b = model.op(b);
  if (!is_convolution(op_a) || !is_convolution(op_b)) return 0;
  const int t = op_a.output;
  if (op_b.inputs[0] != t || t == model.input_tensor() || t == model.output_tensor()) return 0;
  for (int k = 1; k < op_b.num_inputs; ++k)
    if (op_b.inputs[k] == t) return 0;
  const TensorPlan& plan = model.plan(t);
  if (plan.first_op != a || plan.last_op != b || plan.alias_of >= 0) return 0;  // read by B alone
  const Shape& s = model.tensor(t).shape;
  if (s.rank != 4 || s.dims[0] != 1) return 0;  // one image: a band is a run of whole rows
  const int rows = (op_b.filter_h - 1) * op_b.dilation_h + 1;
  return rows < s.dims[1] ? rows : 0;  // a band as tall as T saves nothing
}

Status plan_band_fusion(const Model& model, BandFusion* out, std::int32_t* offsets) {
  *out = BandFusion{};
  TensorPlan plans[kMaxActivations];
  std::size_t arena = 0, bound = 0;
  Status status = plan_fused(model, *out, plans, &arena, &bound);
  if (!status.ok()) return status;
  // Passes in operator order until none helps: a pair away from today's peak can matter once the
  // peak's own pair is fused (ad_small: 0+1 and 2+3 only pay after 4+5).
  for (bool improved = true; improved;) {
    improved = false;
    for (int a = 0; a + 1 < model.num_operators(); ++a) {
      const int rows = band_rows_for_pair(model, a);
      if (rows == 0 || in_pair(*out, model, a) || in_pair(*out, model, a + 1)) continue;
      out->band_rows[a + 1] = static_cast<std::int16_t>(rows);  // tried in place, undone if no gain
      std::size_t trial_arena = 0, trial_bound = 0;
      status = plan_fused(model, *out, plans, &trial_arena, &trial_bound);
      if (!status.ok()) return status;
      if (trial_arena >= arena) {
        out->band_rows[a + 1] = 0;
        continue;
      }
      ++out->num_pairs;
      arena = trial_arena;
      bound = trial_bound;
      improved = true;
    }
  }
  if (offsets != nullptr) {
    status = plan_fused(model, *out, plans, &arena, &bound);
    if (!status.ok()) return status;
    for (int t = 0; t < kMaxTensors; ++t) offsets[t] = -1;
    for (int k = 0; k <= model.num_operators(); ++k) offsets[activation_tensor(model, k)] = plans[k].arena_offset;
  }
  out->arena_bytes = arena;
  out->lower_bound = bound;
  return Status::Ok();
}

}  // namespace micronet_ad::plan
