// AVERAGE_POOL_2D: int8, input and output share scale and zero point (no rescale).
#include "kernels/level.h"
#include "kernels/reference/reference.h"
#include "ops/op_checker.h"
#include "ops/op_table.h"

namespace micronet_ad::ops {
namespace {

Status validate(const OpChecker& check, OperatorInfo* info) {
  const int x = info->inputs[0], y = info->output;
  Status s = check.nhwc_input_output(x, y);
  if (!s) return s;
  const int in_c = check.dim(x, 3);
  const fb::Pool2DOptions* o = check.op()->builtin_options_as_Pool2DOptions();
  if (o == nullptr) return check.fail("Pool2DOptions are missing");
  info->stride_h = o->stride_h();
  info->stride_w = o->stride_w();
  info->filter_h = o->filter_height();
  info->filter_w = o->filter_width();
  if (info->filter_h < 1 || info->filter_w < 1 ||
      static_cast<std::int64_t>(info->filter_h) * info->filter_w > kMaxPoolWindow)
    return check.fail("pool window %dx%d is invalid", info->filter_h, info->filter_w);
  const auto* qx = check.tensor(x)->quantization();
  const auto* qy = check.tensor(y)->quantization();
  if (qx->scale()->Get(0) != qy->scale()->Get(0) || qx->zero_point()->Get(0) != qy->zero_point()->Get(0))
    return check.fail("input and output quantization differ; int8 AVERAGE_POOL_2D does not rescale");
  return check.window(o->padding(), o->fused_activation_function(), in_c, info);
}

kernels::PoolGeometry geometry(const Model& model, const OperatorInfo& op, const kernels::PreparedOp& p) {
  const TensorInfo in = model.tensor(op.inputs[0]);
  const TensorInfo out = model.tensor(op.output);
  kernels::PoolGeometry g;
  g.batches = in.shape.dims[0];
  g.in_h = in.shape.dims[1];
  g.in_w = in.shape.dims[2];
  g.channels = in.shape.dims[3];
  g.out_h = out.shape.dims[1];
  g.out_w = out.shape.dims[2];
  g.filter_h = op.filter_h;
  g.filter_w = op.filter_w;
  g.stride_h = op.stride_h;
  g.stride_w = op.stride_w;
  g.pad_top = p.pad_top;
  g.pad_left = p.pad_left;
  g.act_min = p.act_min;
  g.act_max = p.act_max;
  return g;
}

void invoke(const InvokeArgs& a) {
  const kernels::PoolGeometry g = geometry(*a.model, *a.op, *a.p);
  if (a.p->pool != nullptr)
    a.p->pool->run(g, a.x, a.y);
  else
    kernels::reference::average_pool2d(g, a.x, a.y);
}

}  // namespace

kernels::PoolGeometry pool_geometry(const Model& model, const OperatorInfo& op, const kernels::PreparedOp& p) {
  return geometry(model, op, p);
}

// The row keeps its fields grouped as OpDef (op_table.h) declares them.
// clang-format off
const OpDef kAveragePool2DDef = {
    OpType::kAveragePool2D, 1, "AVERAGE_POOL_2D",
    /*min_inputs=*/1, /*max_inputs=*/1, /*optional_input=*/-1, /*activation_inputs=*/1,
    /*channel_params=*/false, /*weights_quantized_dim=*/0,
    /*window=*/true, /*fused_activation=*/true, /*output_aliases_input=*/false, KernelList::kAveragePool,
    validate, no_macs, prepare_window, nullptr, nullptr, invoke};
// clang-format on

}  // namespace micronet_ad::ops
