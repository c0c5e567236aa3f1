// CONV_2D: int8 activations, per-channel or per-tensor int8 weights [out, h, w, in], int32 bias.
#include "kernels/reference/reference.h"
#include "ops/op_checker.h"
#include "ops/op_table.h"

namespace micronet_ad::ops {
namespace {

// Conv2DOptions and DepthwiseConv2DOptions carry the same window fields.
template <typename Options>
void read_window_options(const Options& o, OperatorInfo* info, fb::Padding* padding, fb::ActivationFunctionType* act) {
  *padding = o.padding();
  *act = o.fused_activation_function();
  info->stride_h = o.stride_h();
  info->stride_w = o.stride_w();
  info->dilation_h = o.dilation_h_factor();
  info->dilation_w = o.dilation_w_factor();
}

// The NHWC checks CONV_2D and DEPTHWISE_CONV_2D share before their own.
Status validate_conv_like(const OpChecker& check, OperatorInfo* info, bool depthwise) {
  const int x = info->inputs[0], y = info->output;
  Status s = check.nhwc_input_output(x, y);
  if (!s) return s;
  const int in_c = check.dim(x, 3);
  const int w = info->inputs[1];
  const fb::Tensor* tw = check.tensor(w);
  if (!tw->shape() || tw->shape()->size() != 4)
    return check.fail("weights tensor %d has rank %u, expected 4", w,
                      static_cast<unsigned>(tw->shape() ? tw->shape()->size() : 0));
  info->filter_h = check.dim(w, 1);
  info->filter_w = check.dim(w, 2);
  fb::Padding padding;
  fb::ActivationFunctionType act;
  int out_c;
  if (!depthwise) {
    const fb::Conv2DOptions* o = check.op()->builtin_options_as_Conv2DOptions();
    if (o == nullptr) return check.fail("Conv2DOptions are missing");
    read_window_options(*o, info, &padding, &act);
    out_c = check.dim(w, 0);
    if (check.dim(w, 3) != in_c)
      return check.fail("weights tensor %d has %d input channels, the input has %d", w, check.dim(w, 3), in_c);
    s = check.weights(w, out_c, 0, check.is_const(w));
    if (!s) return s;
    if (static_cast<std::int64_t>(info->filter_h) * info->filter_w * in_c > kMaxAccumulatedTerms)
      return check.fail("filter %dx%dx%d is too large for an int32 accumulator", info->filter_h, info->filter_w, in_c);
  } else {
    const fb::DepthwiseConv2DOptions* o = check.op()->builtin_options_as_DepthwiseConv2DOptions();
    if (o == nullptr) return check.fail("DepthwiseConv2DOptions are missing");
    read_window_options(*o, info, &padding, &act);
    if (check.dim(w, 0) != 1)
      return check.fail("weights tensor %d has leading dimension %d, expected 1", w, check.dim(w, 0));
    out_c = check.dim(w, 3);
    if (out_c % in_c != 0)
      return check.fail("weights tensor %d has %d channels, not a multiple of the input's %d", w, out_c, in_c);
    info->depth_multiplier = out_c / in_c;
    if (o->depth_multiplier() > 0 && o->depth_multiplier() != info->depth_multiplier)
      return check.fail("depth multiplier is %d but the weights imply %d", static_cast<int>(o->depth_multiplier()),
                        info->depth_multiplier);
    s = check.weights(w, out_c, 3, check.is_const(w));
    if (!s) return s;
    if (static_cast<std::int64_t>(info->filter_h) * info->filter_w > kMaxAccumulatedTerms)
      return check.fail("filter %dx%d is too large for an int32 accumulator", info->filter_h, info->filter_w);
  }
  if (info->num_inputs == 3 && info->inputs[2] >= 0) {
    s = check.bias(info->inputs[2], out_c, check.is_const(info->inputs[2]));
    if (!s) return s;
  }
  s = check.multipliers(x, w, y);
  if (!s) return s;
  return check.window(padding, act, out_c, info);
}

Status validate(const OpChecker& check, OperatorInfo* info) { return validate_conv_like(check, info, false); }

}  // namespace

Status validate_depthwise_conv2d(const OpChecker& check, OperatorInfo* info) {
  return validate_conv_like(check, info, true);
}

// Output elements · taps per output (filter_h · filter_w, times in_c for CONV_2D).
std::int64_t conv_macs(const Model& model, const OperatorInfo& op) {
  const TensorInfo in = model.tensor(op.inputs[0]);
  const std::int64_t per_output =
      static_cast<std::int64_t>(op.filter_h) * op.filter_w * (op.type == OpType::kConv2D ? in.shape.dims[3] : 1);
  return model.tensor(op.output).shape.elements() * per_output;
}

// The level's kernel chosen at init, else the reference kernel.
void invoke_conv(const InvokeArgs& a) {
  const kernels::Requantization rq = requantization(*a.p);
  const std::int8_t* w = weights_of(*a.model, *a.op);
  const std::int32_t* bias = bias_of(*a.model, *a.op);
  if (a.p->conv != nullptr) {
    a.p->conv->run(kernels::ConvCall{a.conv, &rq, a.x, w, bias, a.p->packed, a.scratch, a.y});
  } else if (a.op->type == OpType::kConv2D) {
    kernels::reference::conv2d(*a.conv, rq, a.x, w, bias, a.y);
  } else {
    kernels::reference::depthwise_conv2d(*a.conv, rq, a.x, w, bias, a.y);
  }
}

// The row keeps its fields grouped as OpDef (op_table.h) declares them.
// clang-format off
const OpDef kConv2DDef = {
    OpType::kConv2D, 3, "CONV_2D",
    /*min_inputs=*/2, /*max_inputs=*/3, /*optional_input=*/2, /*activation_inputs=*/1,
    /*channel_params=*/true, /*weights_quantized_dim=*/0,
    /*window=*/true, /*fused_activation=*/true, /*output_aliases_input=*/false, KernelList::kConv,
    validate, conv_macs, prepare_window, output_channels, fill_channel_multipliers, invoke_conv};
// clang-format on

}  // namespace micronet_ad::ops
