// RESHAPE: same bytes, new shape; the output aliases the input in the arena.
#include <cstring>

#include "ops/op_checker.h"
#include "ops/op_table.h"

namespace micronet_ad::ops {
namespace {

Status validate(const OpChecker& check, OperatorInfo* info) {
  const int x = info->inputs[0], y = info->output;
  if (check.tensor(x)->type() != check.tensor(y)->type()) return check.fail("input and output types differ");
  Status s = check.activation(x, "input", 0);
  if (!s) return s;
  const std::int64_t nx = check.elements(x), ny = check.elements(y);
  if (nx != ny)
    return check.fail("input has %lld elements but output has %lld", static_cast<long long>(nx),
                      static_cast<long long>(ny));
  if (info->num_inputs == 2 && check.tensor(info->inputs[1])->type() != fb::TensorType_INT32)
    return check.fail("shape tensor %d is not INT32", info->inputs[1]);
  return Status::Ok();
}

void prepare(const Model&, const OperatorInfo&, kernels::PreparedOp*) {}

void invoke(const InvokeArgs& a) {
  if (a.y != a.x) std::memmove(a.y, a.x, a.y_bytes);  // normally planned in place
}

}  // namespace

// The row keeps its fields grouped as OpDef (op_table.h) declares them.
// clang-format off
const OpDef kReshapeDef = {
    OpType::kReshape, 22, "RESHAPE",
    /*min_inputs=*/1, /*max_inputs=*/2, /*optional_input=*/-1, /*activation_inputs=*/1,
    /*channel_params=*/false, /*weights_quantized_dim=*/0,
    /*window=*/false, /*fused_activation=*/false, /*output_aliases_input=*/true, KernelList::kNone,
    validate, no_macs, prepare, nullptr, nullptr, invoke};
// clang-format on

}  // namespace micronet_ad::ops
