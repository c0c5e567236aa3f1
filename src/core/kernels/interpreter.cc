#include "micronet_ad/interpreter.h"

#include <cstring>

#include "kernels/geometry.h"
#include "kernels/reference/reference.h"
#include "quant/quantization.h"

namespace micronet_ad {
namespace {

std::size_t align_up(std::size_t n) { return (n + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment; }

int out_channels(const Model& model, const OperatorInfo& op) {
  return model.tensor(op.output).shape.dims[3];
}

bool has_channel_params(const OperatorInfo& op) {
  return op.type == OpType::kConv2D || op.type == OpType::kDepthwiseConv2D;
}

}  // namespace

std::size_t Interpreter::required_memory(const Model& model) {
  std::size_t bytes = kArenaAlignment + align_up(model.arena_bytes());  // slack to align the start
  for (int i = 0; i < model.num_operators(); ++i) {
    const OperatorInfo& op = model.op(i);
    if (has_channel_params(op)) bytes += align_up(2 * sizeof(std::int32_t) * static_cast<std::size_t>(out_channels(model, op)));
  }
  return bytes;
}

Status Interpreter::init(const Model& model, void* memory, std::size_t memory_bytes) {
  model_ = nullptr;
  const std::size_t needed = required_memory(model);
  if (memory == nullptr || memory_bytes < needed)
    return Status::Error("interpreter needs %zu bytes of memory, got %zu", needed, memory_bytes);
  auto base = reinterpret_cast<std::uintptr_t>(memory);
  auto* cursor = static_cast<std::uint8_t*>(memory) + (align_up(base) - base);
  arena_ = cursor;
  cursor += align_up(model.arena_bytes());

  for (int i = 0; i < model.num_operators(); ++i) {
    const OperatorInfo& op = model.op(i);
    PreparedOp& p = prepared_[i];
    p = PreparedOp();
    if (op.type == OpType::kReshape) continue;
    const TensorInfo in = model.tensor(op.inputs[0]);
    const TensorInfo out = model.tensor(op.output);
    p.input_offset = -in.zero_point;
    p.output_offset = out.zero_point;
    quant::activation_range(op.activation, out.scale(), out.zero_point, &p.act_min, &p.act_max);
    p.pad_top = kernels::padding_before(op.padding, in.shape.dims[1], out.shape.dims[1], op.filter_h, op.stride_h, op.dilation_h);
    p.pad_left = kernels::padding_before(op.padding, in.shape.dims[2], out.shape.dims[2], op.filter_w, op.stride_w, op.dilation_w);
    if (!has_channel_params(op)) continue;
    // Per-channel multipliers: in_scale · w_scale[c] / out_scale, combined in double (SPEC §2).
    const TensorInfo w = model.tensor(op.inputs[1]);
    const int channels = out.shape.dims[3];
    auto* multipliers = reinterpret_cast<std::int32_t*>(cursor);
    auto* shifts = multipliers + channels;
    for (int c = 0; c < channels; ++c) {
      const float w_scale = w.scales[w.num_scales == 1 ? 0 : c];
      const double real = static_cast<double>(in.scale()) * static_cast<double>(w_scale) / static_cast<double>(out.scale());
      int shift = 0;
      quant::quantize_multiplier(real, &multipliers[c], &shift);
      shifts[c] = shift;
    }
    p.multipliers = multipliers;
    p.shifts = shifts;
    cursor += align_up(2 * sizeof(std::int32_t) * static_cast<std::size_t>(channels));
  }
  model_ = &model;
  return Status::Ok();
}

std::int8_t* Interpreter::tensor_data(int tensor_index) const {
  return reinterpret_cast<std::int8_t*>(arena_ + model_->plan(tensor_index).arena_offset);
}

std::int8_t* Interpreter::input() { return model_ ? tensor_data(model_->input_tensor()) : nullptr; }
const std::int8_t* Interpreter::output() const { return model_ ? tensor_data(model_->output_tensor()) : nullptr; }
std::size_t Interpreter::input_bytes() const { return model_ ? static_cast<std::size_t>(model_->plan(model_->input_tensor()).size) : 0; }
std::size_t Interpreter::output_bytes() const { return model_ ? static_cast<std::size_t>(model_->plan(model_->output_tensor()).size) : 0; }

Status Interpreter::invoke() {
  if (model_ == nullptr) return Status::Error("interpreter is not initialised");
  const Model& model = *model_;
  for (int i = 0; i < model.num_operators(); ++i) {
    const OperatorInfo& op = model.op(i);
    const PreparedOp& p = prepared_[i];
    const TensorInfo in = model.tensor(op.inputs[0]);
    const TensorInfo out = model.tensor(op.output);
    const std::int8_t* x = tensor_data(op.inputs[0]);
    std::int8_t* y = tensor_data(op.output);
    switch (op.type) {
      case OpType::kConv2D:
      case OpType::kDepthwiseConv2D: {
        kernels::ConvGeometry g;
        g.batches = in.shape.dims[0];
        g.in_h = in.shape.dims[1]; g.in_w = in.shape.dims[2]; g.in_c = in.shape.dims[3];
        g.out_h = out.shape.dims[1]; g.out_w = out.shape.dims[2]; g.out_c = out.shape.dims[3];
        g.filter_h = op.filter_h; g.filter_w = op.filter_w;
        g.stride_h = op.stride_h; g.stride_w = op.stride_w;
        g.dilation_h = op.dilation_h; g.dilation_w = op.dilation_w;
        g.pad_top = p.pad_top; g.pad_left = p.pad_left;
        g.depth_multiplier = op.depth_multiplier;
        kernels::Requantization rq;
        rq.input_offset = p.input_offset; rq.output_offset = p.output_offset;
        rq.act_min = p.act_min; rq.act_max = p.act_max;
        rq.multipliers = p.multipliers; rq.shifts = p.shifts;
        const auto* w = reinterpret_cast<const std::int8_t*>(model.tensor(op.inputs[1]).data);
        const auto* bias = (op.num_inputs > 2 && op.inputs[2] >= 0)
                               ? reinterpret_cast<const std::int32_t*>(model.tensor(op.inputs[2]).data) : nullptr;
        if (op.type == OpType::kConv2D) kernels::reference::conv2d(g, rq, x, w, bias, y);
        else kernels::reference::depthwise_conv2d(g, rq, x, w, bias, y);
        break;
      }
      case OpType::kAveragePool2D: {
        kernels::PoolGeometry g;
        g.batches = in.shape.dims[0];
        g.in_h = in.shape.dims[1]; g.in_w = in.shape.dims[2]; g.channels = in.shape.dims[3];
        g.out_h = out.shape.dims[1]; g.out_w = out.shape.dims[2];
        g.filter_h = op.filter_h; g.filter_w = op.filter_w;
        g.stride_h = op.stride_h; g.stride_w = op.stride_w;
        g.pad_top = p.pad_top; g.pad_left = p.pad_left;
        g.act_min = p.act_min; g.act_max = p.act_max;
        kernels::reference::average_pool2d(g, x, y);
        break;
      }
      case OpType::kReshape:
        if (y != x) std::memmove(y, x, out.bytes);  // normally planned in place
        break;
    }
    if (observer_ != nullptr) observer_(observer_context_, i, out, y);
  }
  return Status::Ok();
}

}  // namespace micronet_ad
