// The checks and preparation several operators share.
#include <cmath>
#include <cstdarg>
#include <cstdio>

#include "kernels/geometry.h"
#include "ops/op_checker.h"
#include "ops/op_table.h"
#include "quant/quantization.h"

namespace micronet_ad::ops {

const char* type_name(fb::TensorType t) {
  const char* name = fb::EnumNameTensorType(t);
  return (name != nullptr && *name != '\0') ? name : "unknown type";
}

Status OpChecker::fail(const char* fmt, ...) const {
  char what[160];
  std::va_list args;
  va_start(args, fmt);
  std::vsnprintf(what, sizeof(what), fmt, args);
  va_end(args);
  return Status::Error("operator %d (%s): %s", index_, name_, what);
}

std::int64_t OpChecker::elements(int t) const {
  std::int64_t n = 1;
  if (tensor(t)->shape())
    for (auto d : *tensor(t)->shape()) n *= d;
  return n;
}

Status OpChecker::activation(int t, const char* role, int rank) const {
  const fb::Tensor* x = tensor(t);
  if (x->type() != fb::TensorType_INT8)
    return fail("%s tensor %d has type %s, expected INT8", role, t, type_name(x->type()));
  const int r = x->shape() ? static_cast<int>(x->shape()->size()) : 0;
  if (rank > 0 && r != rank) return fail("%s tensor %d has rank %d, expected %d", role, t, r, rank);
  return per_tensor_quantization(t, role);
}

Status OpChecker::nhwc_input_output(int x, int y) const {
  Status s = activation(x, "input", 4);
  if (!s) return s;
  s = activation(y, "output", 4);
  if (!s) return s;
  if (dim(y, 0) != dim(x, 0)) return fail("output batch %d differs from input batch %d", dim(y, 0), dim(x, 0));
  return Status::Ok();
}

Status OpChecker::per_tensor_quantization(int t, const char* role) const {
  const fb::QuantizationParameters* q = tensor(t)->quantization();
  if (q == nullptr || q->scale() == nullptr || q->scale()->size() != 1 || q->zero_point() == nullptr ||
      q->zero_point()->size() != 1)
    return fail("%s tensor %d lacks per-tensor quantization (one scale and one zero point)", role, t);
  const float scale = q->scale()->Get(0);
  if (!(scale > 0.0f) || !std::isfinite(scale))
    return fail("%s tensor %d has scale %g, expected a positive finite number", role, t, static_cast<double>(scale));
  const std::int64_t zp = q->zero_point()->Get(0);
  if (zp < -128 || zp > 127)
    return fail("%s tensor %d has zero point %lld, outside int8", role, t, static_cast<long long>(zp));
  return Status::Ok();
}

Status OpChecker::weights(int t, int channels, int quantized_dim, bool is_const) const {
  const fb::Tensor* w = tensor(t);
  if (w->type() != fb::TensorType_INT8)
    return fail("weights tensor %d has type %s, expected INT8", t, type_name(w->type()));
  if (!is_const) return fail("weights tensor %d has no constant data", t);
  const fb::QuantizationParameters* q = w->quantization();
  if (q == nullptr || q->scale() == nullptr || q->zero_point() == nullptr)
    return fail("weights tensor %d has no quantization parameters", t);
  const int n = static_cast<int>(q->scale()->size());
  if (n != 1 && n != channels) return fail("weights tensor %d has %d scales, expected 1 or %d", t, n, channels);
  if (q->zero_point()->size() != static_cast<flatbuffers::uoffset_t>(n))
    return fail("weights tensor %d has %u zero points for %d scales", t, static_cast<unsigned>(q->zero_point()->size()),
                n);
  if (n > 1 && q->quantized_dimension() != quantized_dim)
    return fail("weights tensor %d is quantized along dimension %d, expected %d", t,
                static_cast<int>(q->quantized_dimension()), quantized_dim);
  for (int c = 0; c < n; ++c) {
    const float s = q->scale()->Get(static_cast<flatbuffers::uoffset_t>(c));
    if (!(s > 0.0f) || !std::isfinite(s))
      return fail("weights tensor %d channel %d has scale %g, expected a positive finite number", t, c,
                  static_cast<double>(s));
    if (q->zero_point()->Get(static_cast<flatbuffers::uoffset_t>(c)) != 0)
      return fail("weights tensor %d channel %d has a non-zero zero point", t, c);
  }
  return Status::Ok();
}

Status OpChecker::multipliers(int x, int w, int y) const {
  const double in_scale = tensor(x)->quantization()->scale()->Get(0);
  const double out_scale = tensor(y)->quantization()->scale()->Get(0);
  const auto* scales = tensor(w)->quantization()->scale();
  for (flatbuffers::uoffset_t c = 0; c < scales->size(); ++c) {
    const double real = in_scale * static_cast<double>(scales->Get(c)) / out_scale;
    std::int32_t significand = 0;
    int shift = 0;
    quant::quantize_multiplier(real, &significand, &shift);
    if (!std::isfinite(real) || shift > 30)
      return fail("channel %u requantization multiplier %g (input scale x weight scale / output scale) is too large",
                  static_cast<unsigned>(c), real);
  }
  return Status::Ok();
}

Status OpChecker::bias(int t, int channels, bool is_const) const {
  const fb::Tensor* b = tensor(t);
  if (b->type() != fb::TensorType_INT32)
    return fail("bias tensor %d has type %s, expected INT32", t, type_name(b->type()));
  if (!is_const) return fail("bias tensor %d has no constant data", t);
  const std::int64_t n = elements(t);
  if (n != channels)
    return fail("bias tensor %d has %lld elements, expected %d", t, static_cast<long long>(n), channels);
  // The bias scale is deliberately not checked: the MicroNet models share one bias tensor
  // between layers of different scales, and TFLite adds the raw int32 values (docs/models.md).
  return Status::Ok();
}

Status OpChecker::activation_function(fb::ActivationFunctionType act, Activation* out) const {
  switch (act) {
    case fb::ActivationFunctionType_NONE:
      *out = Activation::kNone;
      return Status::Ok();
    case fb::ActivationFunctionType_RELU:
      *out = Activation::kRelu;
      return Status::Ok();
    case fb::ActivationFunctionType_RELU_N1_TO_1:
      *out = Activation::kReluN1To1;
      return Status::Ok();
    case fb::ActivationFunctionType_RELU6:
      *out = Activation::kRelu6;
      return Status::Ok();
    default:
      return fail("unsupported fused activation %d", static_cast<int>(act));
  }
}

Status OpChecker::window(fb::Padding padding, fb::ActivationFunctionType act, int out_c, OperatorInfo* info) const {
  const int x = info->inputs[0], y = info->output;
  const int batches = dim(x, 0), in_h = dim(x, 1), in_w = dim(x, 2);
  if (info->stride_h < 1 || info->stride_w < 1) return fail("stride %dx%d is invalid", info->stride_h, info->stride_w);
  if (info->dilation_h < 1 || info->dilation_w < 1)
    return fail("dilation %dx%d is invalid", info->dilation_h, info->dilation_w);
  if (info->stride_h > 4096 || info->stride_w > 4096 || info->dilation_h > 4096 || info->dilation_w > 4096 ||
      info->filter_h > 4096 || info->filter_w > 4096)
    return fail("stride, dilation or filter size is absurdly large");
  if (padding != fb::Padding_SAME && padding != fb::Padding_VALID)
    return fail("unknown padding %d", static_cast<int>(padding));
  info->padding = padding == fb::Padding_SAME ? Padding::kSame : Padding::kValid;
  Status s = activation_function(act, &info->activation);
  if (!s) return s;
  const int out_h = kernels::output_size(info->padding, in_h, info->filter_h, info->stride_h, info->dilation_h);
  const int out_w = kernels::output_size(info->padding, in_w, info->filter_w, info->stride_w, info->dilation_w);
  if (out_h < 1 || out_w < 1)
    return fail("filter %dx%d does not fit the %dx%d input with VALID padding", info->filter_h, info->filter_w, in_h,
                in_w);
  if (dim(y, 1) != out_h || dim(y, 2) != out_w || dim(y, 3) != out_c)
    return fail("output tensor %d has shape [%d,%d,%d,%d], expected [%d,%d,%d,%d]", y, dim(y, 0), dim(y, 1), dim(y, 2),
                dim(y, 3), batches, out_h, out_w, out_c);
  return Status::Ok();
}

// ---- preparation -------------------------------------------------------------------------

void prepare_offsets(const Model& model, const OperatorInfo& op, kernels::PreparedOp* p) {
  const TensorInfo in = model.tensor(op.inputs[0]);
  const TensorInfo out = model.tensor(op.output);
  p->input_offset = -in.zero_point;
  p->output_offset = out.zero_point;
  quant::activation_range(op.activation, out.scale(), out.zero_point, &p->act_min, &p->act_max);
}

void prepare_window(const Model& model, const OperatorInfo& op, kernels::PreparedOp* p) {
  prepare_offsets(model, op, p);
  const TensorInfo in = model.tensor(op.inputs[0]);
  const TensorInfo out = model.tensor(op.output);
  p->pad_top =
      kernels::padding_before(op.padding, in.shape.dims[1], out.shape.dims[1], op.filter_h, op.stride_h, op.dilation_h);
  p->pad_left =
      kernels::padding_before(op.padding, in.shape.dims[2], out.shape.dims[2], op.filter_w, op.stride_w, op.dilation_w);
}

void fill_channel_multipliers(const Model& model, const OperatorInfo& op, int count, int stride,
                              std::int32_t* multipliers, std::int32_t* shifts) {
  const TensorInfo in = model.tensor(op.inputs[0]);
  const TensorInfo w = model.tensor(op.inputs[1]);
  const TensorInfo out = model.tensor(op.output);
  for (int c = 0; c < stride; ++c) {
    multipliers[c] = 0;
    shifts[c] = 0;
    if (c >= count) continue;
    const float w_scale = w.scales[w.num_scales == 1 ? 0 : c];
    const double real =
        static_cast<double>(in.scale()) * static_cast<double>(w_scale) / static_cast<double>(out.scale());
    int shift = 0;
    quant::quantize_multiplier(real, &multipliers[c], &shift);
    shifts[c] = shift;
  }
}

int output_channels(const Model& model, const OperatorInfo& op) {
  const TensorInfo out = model.tensor(op.output);
  return out.shape.dims[out.shape.rank - 1];
}

kernels::Requantization requantization(const kernels::PreparedOp& p) {
  kernels::Requantization rq;
  rq.input_offset = p.input_offset;
  rq.output_offset = p.output_offset;
  rq.act_min = p.act_min;
  rq.act_max = p.act_max;
  rq.multipliers = p.multipliers;
  rq.shifts = p.shifts;
  return rq;
}

const std::int8_t* weights_of(const Model& model, const OperatorInfo& op) {
  return reinterpret_cast<const std::int8_t*>(model.tensor(op.inputs[1]).data);
}

const std::int32_t* bias_of(const Model& model, const OperatorInfo& op) {
  return (op.num_inputs > 2 && op.inputs[2] >= 0)
             ? reinterpret_cast<const std::int32_t*>(model.tensor(op.inputs[2]).data)
             : nullptr;
}

std::int64_t no_macs(const Model&, const OperatorInfo&) { return 0; }

}  // namespace micronet_ad::ops
