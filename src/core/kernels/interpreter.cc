#include "micronet_ad/interpreter.h"

#include <cstring>
#include <initializer_list>

#include "kernels/geometry.h"
#include "kernels/level.h"
#include "kernels/prepared_op.h"
#include "ops/op_table.h"
#include "plan/band_fusion.h"
#include "quant/quantization.h"

namespace micronet_ad {
namespace {

using kernels::ConvKernel;
using kernels::KernelLevel;
using kernels::PoolKernel;
using kernels::PreparedOp;

static_assert(sizeof(PreparedOp) <= Interpreter::kPreparedOpBytes, "grow kPreparedOpBytes");

std::size_t align_up(std::size_t n, std::size_t a) { return (n + a - 1) / a * a; }

// kAuto: the last compiled level (they are listed slowest first) this CPU runs.
KernelSet resolve(KernelSet set) {
  if (set != KernelSet::kAuto) return set;
  int count = 0;
  const KernelLevel* const* levels = kernels::compiled_levels(&count);
  for (int i = count - 1; i > 0; --i)
    if (levels[i]->cpu_supports()) return levels[i]->set;
  return KernelSet::kReference;
}

kernels::ConvGeometry conv_geometry(const Model& model, const OperatorInfo& op, int pad_top, int pad_left) {
  const TensorInfo in = model.tensor(op.inputs[0]);
  const TensorInfo out = model.tensor(op.output);
  kernels::ConvGeometry g;
  g.batches = in.shape.dims[0];
  g.in_h = in.shape.dims[1];
  g.in_w = in.shape.dims[2];
  g.in_c = in.shape.dims[3];
  g.out_h = out.shape.dims[1];
  g.out_w = out.shape.dims[2];
  g.out_c = out.shape.dims[3];
  g.filter_h = op.filter_h;
  g.filter_w = op.filter_w;
  g.stride_h = op.stride_h;
  g.stride_w = op.stride_w;
  g.dilation_h = op.dilation_h;
  g.dilation_w = op.dilation_w;
  g.pad_top = pad_top;
  g.pad_left = pad_left;
  g.depth_multiplier = op.depth_multiplier;
  return g;
}

}  // namespace
}  // namespace micronet_ad
namespace micronet_ad::ops {
kernels::PoolGeometry pool_geometry(const Model& model, const OperatorInfo& op,
                                    const kernels::PreparedOp& p);  // ops/average_pool2d.cc
}  // namespace micronet_ad::ops
namespace micronet_ad {
namespace {

// Lays out the caller's memory for `level` and an arena of `arena_bytes`: the arena, then per
// operator its multipliers and packed weights, then the largest scratch any kernel asks for.
// With base == nullptr only counts; otherwise also fills `ops`, *arena and *scratch. Returns the
// bytes used. Scratch is sized for whole layers, which covers their row bands too.
std::size_t layout(const Model& model, const KernelLevel& level, std::size_t arena_bytes, std::uint8_t* base,
                   PreparedOp* ops, std::uint8_t** arena, void** scratch) {
  std::size_t offset = 0;
  auto take = [&](std::size_t bytes) -> std::uint8_t* {
    std::uint8_t* p = base != nullptr ? base + offset : nullptr;
    offset += align_up(bytes, level.alignment);
    return p;
  };
  std::uint8_t* arena_start = take(arena_bytes);
  std::size_t scratch_bytes = 0;
  for (int i = 0; i < model.num_operators(); ++i) {
    const OperatorInfo& op = model.op(i);
    const ops::OpDef& def = ops::def(op.type);
    PreparedOp p;
    def.prepare(model, op, &p);
    // The level's kernel, from the list the op's row names.
    int stride_padding = 1;
    if (def.kernels == ops::KernelList::kConv || def.kernels == ops::KernelList::kDepthwise) {
      const kernels::ConvGeometry g = conv_geometry(model, op, p.pad_top, p.pad_left);
      p.conv = def.kernels == ops::KernelList::kConv ? kernels::find_conv(level.conv, level.conv_count, g)
                                                     : kernels::find_conv(level.depthwise, level.depthwise_count, g);
      if (p.conv != nullptr) stride_padding = level.channel_padding;
      if (p.conv != nullptr && p.conv->packed_bytes != nullptr) {
        void* packed = take(p.conv->packed_bytes(g));
        if (base != nullptr)
          p.conv->pack(g, ops::weights_of(model, op), ops::bias_of(model, op), p.input_offset, packed);
        p.packed = packed;
      }
      if (p.conv != nullptr && p.conv->scratch_bytes != nullptr) {
        const std::size_t s = p.conv->scratch_bytes(g);
        if (s > scratch_bytes) scratch_bytes = s;
      }
    } else if (def.kernels == ops::KernelList::kAveragePool) {
      const kernels::PoolGeometry g = ops::pool_geometry(model, op, p);
      for (int k = 0; k < level.average_pool_count && p.pool == nullptr; ++k)
        if (level.average_pool[k].accepts(g)) p.pool = &level.average_pool[k];
    }
    // Requantization multipliers (per output channel for weighted ops), padded for the level's kernel.
    if (def.multiplier_count != nullptr) {
      const int count = def.multiplier_count(model, op);
      const int stride =
          static_cast<int>(align_up(static_cast<std::size_t>(count), static_cast<std::size_t>(stride_padding)));
      auto* multipliers =
          reinterpret_cast<std::int32_t*>(take(2 * sizeof(std::int32_t) * static_cast<std::size_t>(stride)));
      if (base != nullptr) {
        def.fill_multipliers(model, op, count, stride, multipliers, multipliers + stride);
        p.multipliers = multipliers;
        p.shifts = multipliers + stride;
      }
    }
    if (ops != nullptr) ops[i] = p;
  }
  void* scratch_start = scratch_bytes > 0 ? take(scratch_bytes) : nullptr;
  if (arena != nullptr) *arena = arena_start;
  if (scratch != nullptr) *scratch = scratch_start;
  return offset;
}

// What a convolution needs besides its operator: the model (weights) and the shared scratch.
struct ConvContext {
  const Model* model;
  void* scratch;
};

// Runs convolution `op` over geometry `g` — the layer's own, or a row band of it — with the
// kernel init() chose for the layer, or the reference kernel.
void run_conv(const ConvContext& c, const OperatorInfo& op, const PreparedOp& p, const kernels::ConvGeometry& g,
              const std::int8_t* x, std::int8_t* y) {
  ops::def(op.type).invoke(ops::InvokeArgs{c.model, &op, &p, &g, x, nullptr, y, 0, c.scratch});
}

// Output rows [r0, r1) of convolution `op` (geometry g) into y. The sub-geometry starts at the
// first input row those rows read, so that its top padding is never negative.
void run_conv_rows(const ConvContext& c, const OperatorInfo& op, const PreparedOp& p, const kernels::ConvGeometry& g,
                   int r0, int r1, const std::int8_t* x, std::int8_t* y) {
  kernels::ConvGeometry rows = g;
  const int first = r0 * g.stride_h - g.pad_top;  // input row of the first window's top tap
  const int skip = first > 0 ? first : 0;
  rows.in_h = g.in_h - skip;
  rows.pad_top = skip - first;
  rows.out_h = r1 - r0;
  run_conv(c, op, p, rows, x + static_cast<std::size_t>(skip) * g.in_w * g.in_c, y);
}

}  // namespace

constexpr KernelSet kAllSets[] = {KernelSet::kReference,  KernelSet::kAuto,           KernelSet::kAvx2,
                                  KernelSet::kAvx512Vnni, KernelSet::kArmDsp,         KernelSet::kArmMve,
                                  KernelSet::kArmNeon,    KernelSet::kArmNeonDotprod, KernelSet::kAvxVnni};

const char* kernel_set_name(KernelSet set) {
  switch (set) {
    case KernelSet::kReference:
      return "reference";
    case KernelSet::kAuto:
      return "auto";
    case KernelSet::kAvx2:
      return "avx2";
    case KernelSet::kAvx512Vnni:
      return "avx512vnni";
    case KernelSet::kArmDsp:
      return "dsp";
    case KernelSet::kArmMve:
      return "mve";
    case KernelSet::kArmNeon:
      return "neon";
    case KernelSet::kArmNeonDotprod:
      return "neon_dotprod";
    case KernelSet::kAvxVnni:
      return "avxvnni";
  }
  return "?";
}

bool parse_kernel_set(const char* name, KernelSet* set) {
  for (KernelSet s : kAllSets) {
    if (std::strcmp(name, kernel_set_name(s)) == 0) {
      *set = s;
      return true;
    }
  }
  return false;
}

bool Interpreter::kernel_set_supported(KernelSet set) {
  if (set == KernelSet::kAuto) return true;
  const KernelLevel* level = kernels::find_level(set);
  return level != nullptr && level->cpu_supports();
}

kernels::PreparedOp* Interpreter::prepared(int op) const {
  return reinterpret_cast<PreparedOp*>(const_cast<unsigned char*>(prepared_)) + op;
}

std::size_t Interpreter::required_memory(const Model& model, KernelSet kernels) {
  InterpreterOptions options;
  options.kernels = kernels;
  return required_memory(model, options);
}

std::size_t Interpreter::required_memory(const Model& model, const InterpreterOptions& options) {
  const KernelLevel* level = kernels::find_level(resolve(options.kernels));
  if (level == nullptr) level = &kernels::kReferenceLevel;  // init() will refuse it anyway
  const std::size_t arena = arena_bytes(model, options.band_fusion);
  return level->alignment +
         layout(model, *level, arena, nullptr, nullptr, nullptr, nullptr);  // slack to align the start
}

std::size_t Interpreter::arena_bytes(const Model& model, bool band_fusion) {
  if (!band_fusion) return model.arena_bytes();
  plan::BandFusion fusion;
  // The model's own plan succeeded, and bands only shrink tensors: this cannot fail.
  return plan::plan_band_fusion(model, &fusion, nullptr).ok() ? fusion.arena_bytes : model.arena_bytes();
}

Status Interpreter::init(const Model& model, void* memory, std::size_t memory_bytes, KernelSet kernels) {
  InterpreterOptions options;
  options.kernels = kernels;
  return init(model, memory, memory_bytes, options);
}

Status Interpreter::init(const Model& model, void* memory, std::size_t memory_bytes,
                         const InterpreterOptions& options) {
  model_ = nullptr;
  const KernelSet set = resolve(options.kernels);
  if (!kernel_set_supported(set))
    return Status::Error("kernel set %s is not supported by this CPU or build", kernel_set_name(set));
  plan::BandFusion fusion;  // no pairs unless asked for
  std::size_t arena = model.arena_bytes();
  if (options.band_fusion) {
    const Status planned = plan::plan_band_fusion(model, &fusion, arena_offsets_);
    if (!planned.ok()) return planned;
    arena = fusion.arena_bytes;
  } else {
    for (int t = 0; t < model.num_tensors(); ++t) arena_offsets_[t] = model.plan(t).arena_offset;
  }
  const KernelLevel& level = *kernels::find_level(set);
  const std::size_t needed = level.alignment + layout(model, level, arena, nullptr, nullptr, nullptr, nullptr);
  if (memory == nullptr || memory_bytes < needed)
    return Status::Error("interpreter needs %zu bytes of memory, got %zu", needed, memory_bytes);
  auto base = reinterpret_cast<std::uintptr_t>(memory);
  auto* start = static_cast<std::uint8_t*>(memory) + (align_up(base, level.alignment) - base);
  layout(model, level, arena, start, prepared(0), &arena_, &scratch_);
  for (int i = 0; i < model.num_operators(); ++i) prepared(i)->band_rows = fusion.band_rows[i];
  fused_pairs_ = fusion.num_pairs;
  kernel_set_ = set;
  model_ = &model;
  return Status::Ok();
}

std::int8_t* Interpreter::tensor_data(int tensor_index) const {
  return reinterpret_cast<std::int8_t*>(arena_ + arena_offsets_[tensor_index]);
}

std::int8_t* Interpreter::input() { return model_ ? tensor_data(model_->input_tensor()) : nullptr; }
const std::int8_t* Interpreter::output() const { return model_ ? tensor_data(model_->output_tensor()) : nullptr; }
std::size_t Interpreter::input_bytes() const {
  return model_ ? static_cast<std::size_t>(model_->plan(model_->input_tensor()).size) : 0;
}
std::size_t Interpreter::output_bytes() const {
  return model_ ? static_cast<std::size_t>(model_->plan(model_->output_tensor()).size) : 0;
}
const std::int8_t* Interpreter::embedding() const {
  return model_ && model_->embedding_tensor() >= 0 ? tensor_data(model_->embedding_tensor()) : nullptr;
}
std::size_t Interpreter::embedding_bytes() const {
  return model_ && model_->embedding_tensor() >= 0
             ? static_cast<std::size_t>(model_->plan(model_->embedding_tensor()).size)
             : 0;
}

// Op b − 1 (A) and op b (B) of a fused pair: B one output row at a time, from a band holding
// the rows [base, end) of their shared tensor T; A computes each row of T once, when first needed.
void Interpreter::run_band_pair(int b) {
  const Model& model = *model_;
  const ConvContext context{model_, scratch_};
  const OperatorInfo& op_a = model.op(b - 1);
  const OperatorInfo& op_b = model.op(b);
  const PreparedOp& pa = *prepared(b - 1);
  const PreparedOp& pb = *prepared(b);
  const kernels::ConvGeometry ga = conv_geometry(model, op_a, pa.pad_top, pa.pad_left);
  const kernels::ConvGeometry gb = conv_geometry(model, op_b, pb.pad_top, pb.pad_left);
  const std::int8_t* x = tensor_data(op_a.inputs[0]);
  std::int8_t* band = tensor_data(op_a.output);
  std::int8_t* y = tensor_data(op_b.output);
  const std::size_t t_row = static_cast<std::size_t>(gb.in_w) * gb.in_c;
  const std::size_t y_row = static_cast<std::size_t>(gb.out_w) * gb.out_c;
  int base = 0, end = 0;
  for (int oy = 0; oy < gb.out_h; ++oy) {
    const int top = oy * gb.stride_h - gb.pad_top;  // B's window: rows [top, top + band_rows) of T
    const int want_base = top > 0 ? top : 0;
    const int want_end = top + pb.band_rows < gb.in_h ? top + pb.band_rows : gb.in_h;
    // Windows only move down: rows still needed move to the front, the new ones come from A.
    const int kept = end > want_base ? end - want_base : 0;
    if (kept > 0 && want_base > base)
      std::memmove(band, band + static_cast<std::size_t>(want_base - base) * t_row,
                   static_cast<std::size_t>(kept) * t_row);
    base = want_base;
    end = want_base + kept;
    if (want_end > end) {
      run_conv_rows(context, op_a, pa, ga, end, want_end, x, band + static_cast<std::size_t>(kept) * t_row);
      end = want_end;
    }
    kernels::ConvGeometry row = gb;
    row.in_h = end - base;
    row.pad_top = base - top;
    row.out_h = 1;
    run_conv(context, op_b, pb, row, band, y + static_cast<std::size_t>(oy) * y_row);
  }
}

Status Interpreter::invoke() {
  if (model_ == nullptr) return Status::Error("interpreter is not initialised");
  const Model& model = *model_;
  const ConvContext context{model_, scratch_};
  for (int i = 0; i < model.num_operators(); ++i) {
    const OperatorInfo& op = model.op(i);
    const PreparedOp& p = *prepared(i);
    // The first op of a fused pair runs inside the second, band by band; its output never exists whole.
    if (i + 1 < model.num_operators() && prepared(i + 1)->band_rows > 0) continue;
    const TensorInfo out = model.tensor(op.output);
    const std::int8_t* x = tensor_data(op.inputs[0]);
    std::int8_t* y = tensor_data(op.output);
    const ops::OpDef& def = ops::def(op.type);
    if (def.kernels == ops::KernelList::kConv || def.kernels == ops::KernelList::kDepthwise) {
      if (p.band_rows > 0)
        run_band_pair(i);
      else
        run_conv(context, op, p, conv_geometry(model, op, p.pad_top, p.pad_left), x, y);
    } else {
      const std::int8_t* x2 = def.activation_inputs > 1 ? tensor_data(op.inputs[1]) : nullptr;
      def.invoke(ops::InvokeArgs{model_, &op, &p, nullptr, x, x2, y, out.bytes, scratch_});
    }
    if (observer_ != nullptr) observer_(observer_context_, i, out, y);
  }
  return Status::Ok();
}

}  // namespace micronet_ad
