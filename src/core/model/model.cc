// Model loading: flatbuffer verification first, then semantic checks of everything the
// interpreter will touch, so that no later code reads outside the file or trusts a shape.
#include "micronet_ad/model.h"

#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <new>

#include "kernels/geometry.h"
#include "plan/arena_planner.h"
#include "quant/quantization.h"
#include "tflite_subset_generated.h"

namespace micronet_ad {
namespace fb = tflite_subset;

namespace {

constexpr std::uint32_t kSchemaVersion = 3;
constexpr std::int64_t kMaxTensorBytes = std::int64_t{1} << 28;   // 256 MiB: far above any MicroNet
constexpr std::int64_t kMaxAccumulatedTerms = 65536;  // keeps Σ(x−zp)·w inside int32: 65536·255·128 < 2^31
constexpr std::int64_t kMaxPoolWindow = std::int64_t{1} << 23;     // keeps the pool sum inside int32

// TFLite builtin operator codes (schema.fbs) that we run, and names for a clear error otherwise.
enum BuiltinCode : int { kAveragePool2D = 1, kConv2D = 3, kDepthwiseConv2D = 4, kReshape = 22 };

const char* builtin_name(int code) {
  switch (code) {
    case 0: return "ADD";
    case 1: return "AVERAGE_POOL_2D";
    case 2: return "CONCATENATION";
    case 3: return "CONV_2D";
    case 4: return "DEPTHWISE_CONV_2D";
    case 6: return "DEQUANTIZE";
    case 9: return "FULLY_CONNECTED";
    case 14: return "LOGISTIC";
    case 17: return "MAX_POOL_2D";
    case 18: return "MUL";
    case 19: return "RELU";
    case 21: return "RELU6";
    case 22: return "RESHAPE";
    case 25: return "SOFTMAX";
    case 28: return "TANH";
    case 32: return "CUSTOM";
    case 34: return "PAD";
    case 40: return "MEAN";
    case 114: return "QUANTIZE";
    default: return "builtin";
  }
}

const char* type_name(fb::TensorType t) {
  const char* name = fb::EnumNameTensorType(t);
  return (name != nullptr && *name != '\0') ? name : "unknown type";
}

int element_size(fb::TensorType t) {
  switch (t) {
    case fb::TensorType_INT8: case fb::TensorType_UINT8: case fb::TensorType_BOOL: return 1;
    case fb::TensorType_INT16: case fb::TensorType_FLOAT16: case fb::TensorType_UINT16: return 2;
    case fb::TensorType_INT32: case fb::TensorType_FLOAT32: case fb::TensorType_UINT32: return 4;
    case fb::TensorType_INT64: case fb::TensorType_FLOAT64: case fb::TensorType_COMPLEX64:
    case fb::TensorType_UINT64: return 8;
    case fb::TensorType_COMPLEX128: return 16;
    default: return 0;
  }
}

// Everything needed to check one operator, with the operator named in every message.
class OpChecker {
 public:
  OpChecker(const fb::SubGraph* graph, int op_index, const char* op)
      : graph_(graph), index_(op_index), op_(op) {}

  Status fail(const char* fmt, ...) const
#if defined(__GNUC__)
      __attribute__((format(printf, 2, 3)))
#endif
  {
    char what[160];
    std::va_list args;
    va_start(args, fmt);
    std::vsnprintf(what, sizeof(what), fmt, args);
    va_end(args);
    return Status::Error("operator %d (%s): %s", index_, op_, what);
  }

  const fb::Tensor* tensor(int t) const { return graph_->tensors()->Get(static_cast<flatbuffers::uoffset_t>(t)); }

  // Checks an int8 activation tensor of the given rank with one scale and zero point.
  Status activation(int t, const char* role, int rank) const {
    const fb::Tensor* x = tensor(t);
    if (x->type() != fb::TensorType_INT8)
      return fail("%s tensor %d has type %s, expected INT8", role, t, type_name(x->type()));
    const int r = x->shape() ? static_cast<int>(x->shape()->size()) : 0;
    if (rank > 0 && r != rank) return fail("%s tensor %d has rank %d, expected %d", role, t, r, rank);
    return per_tensor_quantization(t, role);
  }

  Status per_tensor_quantization(int t, const char* role) const {
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

  // Checks per-channel (or per-tensor) int8 weights: constant, zero points 0, positive scales.
  Status weights(int t, int channels, int quantized_dim, bool is_const) const {
    const fb::Tensor* w = tensor(t);
    if (w->type() != fb::TensorType_INT8)
      return fail("weights tensor %d has type %s, expected INT8", t, type_name(w->type()));
    if (!is_const) return fail("weights tensor %d has no constant data", t);
    const fb::QuantizationParameters* q = w->quantization();
    if (q == nullptr || q->scale() == nullptr || q->zero_point() == nullptr)
      return fail("weights tensor %d has no quantization parameters", t);
    const int n = static_cast<int>(q->scale()->size());
    if (n != 1 && n != channels)
      return fail("weights tensor %d has %d scales, expected 1 or %d", t, n, channels);
    if (q->zero_point()->size() != static_cast<flatbuffers::uoffset_t>(n))
      return fail("weights tensor %d has %u zero points for %d scales", t, static_cast<unsigned>(q->zero_point()->size()), n);
    if (n > 1 && q->quantized_dimension() != quantized_dim)
      return fail("weights tensor %d is quantized along dimension %d, expected %d", t, static_cast<int>(q->quantized_dimension()),
                  quantized_dim);
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

  // Each channel's requantization multiplier in_scale · w_scale / out_scale must encode with a
  // shift of at most 30: TFLite's kernels shift the accumulator left by it, and more overflows.
  Status multipliers(int x, int w, int y) const {
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

  Status bias(int t, int channels, bool is_const) const {
    const fb::Tensor* b = tensor(t);
    if (b->type() != fb::TensorType_INT32)
      return fail("bias tensor %d has type %s, expected INT32", t, type_name(b->type()));
    if (!is_const) return fail("bias tensor %d has no constant data", t);
    std::int64_t n = 1;
    if (b->shape()) for (auto d : *b->shape()) n *= d;
    if (n != channels) return fail("bias tensor %d has %lld elements, expected %d", t, static_cast<long long>(n), channels);
    // The bias scale is deliberately not checked: the MicroNet models share one bias tensor
    // between layers of different scales, and TFLite adds the raw int32 values (docs/models.md).
    return Status::Ok();
  }

 private:
  const fb::SubGraph* graph_;
  int index_;
  const char* op_;
};

}  // namespace

const char* op_name(OpType type) {
  switch (type) {
    case OpType::kConv2D: return "CONV_2D";
    case OpType::kDepthwiseConv2D: return "DEPTHWISE_CONV_2D";
    case OpType::kAveragePool2D: return "AVERAGE_POOL_2D";
    case OpType::kReshape: return "RESHAPE";
  }
  return "?";
}

const char* padding_name(Padding padding) { return padding == Padding::kSame ? "SAME" : "VALID"; }

const char* activation_name(Activation activation) {
  switch (activation) {
    case Activation::kNone: return "NONE";
    case Activation::kRelu: return "RELU";
    case Activation::kReluN1To1: return "RELU_N1_TO_1";
    case Activation::kRelu6: return "RELU6";
  }
  return "?";
}

std::int64_t Shape::elements() const {
  std::int64_t n = 1;
  for (int i = 0; i < rank; ++i) n *= dims[i];
  return n;
}

std::int64_t Model::total_macs() const {
  std::int64_t total = 0;
  for (int i = 0; i < num_operators_; ++i) total += ops_[i].macs;
  return total;
}

Int8Range Model::output_range(int index) const {
  const TensorInfo out = tensor(ops_[index].output);
  Int8Range range;
  quant::activation_range(ops_[index].activation, out.scale(), out.zero_point, &range.min, &range.max);
  return range;
}

TensorInfo Model::tensor(int index) const {
  const auto* graph = static_cast<const fb::SubGraph*>(subgraph_);
  const fb::Tensor* t = graph->tensors()->Get(static_cast<flatbuffers::uoffset_t>(index));
  TensorInfo info;
  info.index = index;
  info.name = t->name() ? t->name()->c_str() : "";
  info.type = t->type() == fb::TensorType_INT32 ? ElementType::kInt32 : ElementType::kInt8;
  if (t->shape()) {
    info.shape.rank = static_cast<int>(t->shape()->size());
    for (int i = 0; i < info.shape.rank && i < kMaxRank; ++i) info.shape.dims[i] = t->shape()->Get(static_cast<flatbuffers::uoffset_t>(i));
  }
  info.bytes = static_cast<std::size_t>(info.shape.elements() * element_size(t->type()));
  if (const fb::QuantizationParameters* q = t->quantization()) {
    if (q->scale() && q->scale()->size() > 0) {
      info.scales = q->scale()->data();
      info.num_scales = static_cast<int>(q->scale()->size());
    }
    if (q->zero_point() && q->zero_point()->size() > 0) info.zero_point = static_cast<std::int32_t>(q->zero_point()->Get(0));
    info.quantized_dim = q->quantized_dimension();
  }
  const auto* buffers = static_cast<const flatbuffers::Vector<flatbuffers::Offset<fb::Buffer>>*>(buffers_);
  if (buffers && t->buffer() < buffers->size()) {
    const fb::Buffer* b = buffers->Get(t->buffer());
    if (b && b->data() && b->data()->size() > 0) info.data = b->data()->data();
  }
  return info;
}

Status Model::load(const std::uint8_t* data, std::size_t size, Model* out) {
  // Reset in place: `*out = Model()` would build a ~12 KB temporary on the stack (an MCU's stack).
  out->~Model();
  ::new (static_cast<void*>(out)) Model();
  if (data == nullptr || size == 0) return Status::Error("model is empty (0 bytes)");
  if (size < 16) return Status::Error("model has %zu bytes, too small to be a TFLite flatbuffer", size);
  if (size >= FLATBUFFERS_MAX_BUFFER_SIZE) return Status::Error("model has %zu bytes, more than a flatbuffer can hold", size);
  if (!fb::ModelBufferHasIdentifier(data)) {
    char id[5];
    for (int i = 0; i < 4; ++i) id[i] = (data[4 + i] >= 32 && data[4 + i] < 127) ? static_cast<char>(data[4 + i]) : '?';
    id[4] = '\0';
    return Status::Error("not a TFLite model: file identifier is '%s', expected 'TFL3'", id);
  }
  if (reinterpret_cast<std::uintptr_t>(data) % 8 != 0) {
    return Status::Error("model bytes must be 8-byte aligned in memory (flatbuffer alignment)");
  }
  flatbuffers::Verifier verifier(data, size, /*max_depth=*/64, /*max_tables=*/1000000);
  if (!fb::VerifyModelBuffer(verifier)) {
    return Status::Error("model flatbuffer failed verification: the file (%zu bytes) is truncated or corrupt", size);
  }
  out->data_ = data;
  out->size_ = size;
  return out->validate();
}

Status Model::validate() {
  const fb::Model* model = fb::GetModel(data_);
  schema_version_ = model->version();
  if (schema_version_ != kSchemaVersion)
    return Status::Error("model has schema version %u, expected %u", static_cast<unsigned>(schema_version_),
                         static_cast<unsigned>(kSchemaVersion));
  if (model->subgraphs() == nullptr || model->subgraphs()->size() != 1)
    return Status::Error("model has %u subgraphs, expected exactly 1", static_cast<unsigned>(model->subgraphs() ? model->subgraphs()->size() : 0));
  const fb::SubGraph* graph = model->subgraphs()->Get(0);
  subgraph_ = graph;
  buffers_ = model->buffers();
  const auto* buffers = model->buffers();
  const auto* codes = model->operator_codes();
  if (graph->tensors() == nullptr || graph->tensors()->size() == 0) return Status::Error("subgraph has no tensors");
  if (graph->operators() == nullptr || graph->operators()->size() == 0) return Status::Error("subgraph has no operators");
  if (graph->tensors()->size() > static_cast<flatbuffers::uoffset_t>(kMaxTensors))
    return Status::Error("subgraph has %u tensors, at most %d are supported", static_cast<unsigned>(graph->tensors()->size()), kMaxTensors);
  if (graph->operators()->size() > static_cast<flatbuffers::uoffset_t>(kMaxOperators))
    return Status::Error("subgraph has %u operators, at most %d are supported", static_cast<unsigned>(graph->operators()->size()), kMaxOperators);
  num_tensors_ = static_cast<int>(graph->tensors()->size());
  num_operators_ = static_cast<int>(graph->operators()->size());

  // Tensors: shapes, sizes and constant data.
  bool is_const[kMaxTensors] = {};
  for (int t = 0; t < num_tensors_; ++t) {
    const fb::Tensor* x = graph->tensors()->Get(static_cast<flatbuffers::uoffset_t>(t));
    if (x == nullptr) return Status::Error("tensor %d is missing", t);
    const int rank = x->shape() ? static_cast<int>(x->shape()->size()) : 0;
    if (rank > kMaxRank) return Status::Error("tensor %d has rank %d, at most %d is supported", t, rank, kMaxRank);
    const int esize = element_size(x->type());
    if (esize == 0) return Status::Error("tensor %d has unsupported type %d", t, static_cast<int>(x->type()));
    // The verifier checks a vector's alignment only to 4 bytes (its length field), but the int64
    // zero points are read as int64: a misaligned load is undefined (and faults on Cortex-M).
    if (x->quantization() != nullptr && x->quantization()->zero_point() != nullptr &&
        reinterpret_cast<std::uintptr_t>(x->quantization()->zero_point()->data()) % alignof(std::int64_t) != 0)
      return Status::Error("tensor %d has a misaligned zero_point vector (corrupt flatbuffer)", t);
    std::int64_t bytes = esize;
    for (int i = 0; i < rank; ++i) {
      const std::int64_t d = x->shape()->Get(static_cast<flatbuffers::uoffset_t>(i));
      if (d <= 0) return Status::Error("tensor %d has dimension %d of size %lld; sizes must be positive", t, i, static_cast<long long>(d));
      if (d > kMaxTensorBytes || bytes * d > kMaxTensorBytes)
        return Status::Error("tensor %d is too large (dimension %d is %lld; at most %lld bytes per tensor)", t, i,
                             static_cast<long long>(d), static_cast<long long>(kMaxTensorBytes));
      bytes *= d;
    }
    const std::uint32_t b = x->buffer();
    const std::uint32_t num_buffers = buffers ? buffers->size() : 0;
    if (b != 0 && b >= num_buffers) return Status::Error("tensor %d refers to buffer %u, but the model has %u buffers", t,
                                                  static_cast<unsigned>(b), static_cast<unsigned>(num_buffers));
    const fb::Buffer* buf = (b < num_buffers) ? buffers->Get(b) : nullptr;
    if (buf != nullptr && (buf->offset() > 1 || buf->size() > 0))
      return Status::Error("tensor %d uses an external buffer (offset %llu); such models are not supported", t,
                           static_cast<unsigned long long>(buf->offset()));
    if (buf != nullptr && buf->data() != nullptr && buf->data()->size() > 0) {
      if (static_cast<std::int64_t>(buf->data()->size()) != bytes)
        return Status::Error("tensor %d (%s) has %u bytes of data in buffer %u, expected %lld for its shape and type", t,
                             x->name() ? x->name()->c_str() : "", static_cast<unsigned>(buf->data()->size()),
                             static_cast<unsigned>(b), static_cast<long long>(bytes));
      is_const[t] = true;
    }
  }

  // Graph inputs and outputs.
  if (graph->inputs() == nullptr || graph->inputs()->size() != 1)
    return Status::Error("subgraph has %u inputs, expected 1", static_cast<unsigned>(graph->inputs() ? graph->inputs()->size() : 0));
  if (graph->outputs() == nullptr || graph->outputs()->size() != 1)
    return Status::Error("subgraph has %u outputs, expected 1", static_cast<unsigned>(graph->outputs() ? graph->outputs()->size() : 0));
  input_ = graph->inputs()->Get(0);
  output_ = graph->outputs()->Get(0);
  if (input_ < 0 || input_ >= num_tensors_) return Status::Error("subgraph input refers to tensor %d of %d", input_, num_tensors_);
  if (output_ < 0 || output_ >= num_tensors_) return Status::Error("subgraph output refers to tensor %d of %d", output_, num_tensors_);
  if (is_const[input_]) return Status::Error("subgraph input tensor %d is a constant", input_);
  for (int which = 0; which < 2; ++which) {
    const int t = which == 0 ? input_ : output_;
    const fb::Tensor* x = graph->tensors()->Get(static_cast<flatbuffers::uoffset_t>(t));
    const auto* q = x->quantization();
    if (x->type() != fb::TensorType_INT8 || q == nullptr || q->scale() == nullptr || q->scale()->size() != 1 ||
        q->zero_point() == nullptr || q->zero_point()->size() != 1)
      return Status::Error("subgraph %s tensor %d must be INT8 with one scale and zero point", which == 0 ? "input" : "output", t);
  }

  // Operators, in execution order: every activation input must already exist.
  bool written[kMaxTensors] = {};
  written[input_] = true;
  for (int t = 0; t < num_tensors_; ++t) {
    plans_[t] = TensorPlan();
  }
  plans_[input_].first_op = -1;
  for (int i = 0; i < num_operators_; ++i) {
    const fb::Operator* op = graph->operators()->Get(static_cast<flatbuffers::uoffset_t>(i));
    if (op == nullptr) return Status::Error("operator %d is missing", i);
    if (codes == nullptr || op->opcode_index() >= codes->size())
      return Status::Error("operator %d refers to operator code %u, but the model has %u", i,
                           static_cast<unsigned>(op->opcode_index()), static_cast<unsigned>(codes ? codes->size() : 0));
    const fb::OperatorCode* code = codes->Get(op->opcode_index());
    const int builtin = code->builtin_code() > code->deprecated_builtin_code() ? code->builtin_code()
                                                                                : code->deprecated_builtin_code();
    OperatorInfo& info = ops_[i];
    info = OperatorInfo();
    switch (builtin) {
      case kConv2D: info.type = OpType::kConv2D; break;
      case kDepthwiseConv2D: info.type = OpType::kDepthwiseConv2D; break;
      case kAveragePool2D: info.type = OpType::kAveragePool2D; break;
      case kReshape: info.type = OpType::kReshape; break;
      default:
        if (builtin == 32 && code->custom_code())
          return Status::Error("operator %d: unsupported custom operator '%s'", i, code->custom_code()->c_str());
        return Status::Error("operator %d: unsupported operator %s (builtin code %d); micronet-ad runs CONV_2D, "
                             "DEPTHWISE_CONV_2D, AVERAGE_POOL_2D and RESHAPE", i, builtin_name(builtin), builtin);
    }
    OpChecker check(graph, i, op_name(info.type));

    // Tensor indices.
    if (op->inputs() == nullptr || op->outputs() == nullptr) return check.fail("inputs or outputs are missing");
    const int n_in = static_cast<int>(op->inputs()->size());
    const int n_out = static_cast<int>(op->outputs()->size());
    const bool conv = info.type == OpType::kConv2D || info.type == OpType::kDepthwiseConv2D;
    const int min_in = conv ? 2 : 1, max_in = conv ? 3 : (info.type == OpType::kReshape ? 2 : 1);
    if (n_in < min_in || n_in > max_in) return check.fail("has %d inputs, expected %d to %d", n_in, min_in, max_in);
    if (n_out != 1) return check.fail("has %d outputs, expected 1", n_out);
    info.num_inputs = n_in;
    for (int k = 0; k < n_in; ++k) {
      const int t = op->inputs()->Get(static_cast<flatbuffers::uoffset_t>(k));
      const bool optional = conv && k == 2 && t == -1;  // no bias
      if (!optional && (t < 0 || t >= num_tensors_)) return check.fail("input %d refers to tensor %d, but the model has %d", k, t, num_tensors_);
      info.inputs[k] = t;
    }
    info.output = op->outputs()->Get(0);
    if (info.output < 0 || info.output >= num_tensors_) return check.fail("output refers to tensor %d, but the model has %d", info.output, num_tensors_);
    const int x = info.inputs[0], y = info.output;
    if (is_const[x] || !written[x]) return check.fail("input tensor %d is not produced by an earlier operator", x);
    if (is_const[y] || written[y]) return check.fail("output tensor %d is a constant or written twice", y);

    const fb::Tensor* tx = check.tensor(x);
    const fb::Tensor* ty = check.tensor(y);
    auto dim = [](const fb::Tensor* t, int d) { return static_cast<int>(t->shape()->Get(static_cast<flatbuffers::uoffset_t>(d))); };

    if (info.type == OpType::kReshape) {
      if (tx->type() != ty->type()) return check.fail("input and output types differ");
      Status s = check.activation(x, "input", 0);
      if (!s) return s;
      std::int64_t nx = 1, ny = 1;
      if (tx->shape()) for (auto d : *tx->shape()) nx *= d;
      if (ty->shape()) for (auto d : *ty->shape()) ny *= d;
      if (nx != ny) return check.fail("input has %lld elements but output has %lld", static_cast<long long>(nx), static_cast<long long>(ny));
      if (n_in == 2 && check.tensor(info.inputs[1])->type() != fb::TensorType_INT32)
        return check.fail("shape tensor %d is not INT32", info.inputs[1]);
      info.macs = 0;
    } else {
      Status s = check.activation(x, "input", 4);
      if (!s) return s;
      s = check.activation(y, "output", 4);
      if (!s) return s;
      const int batches = dim(tx, 0), in_h = dim(tx, 1), in_w = dim(tx, 2), in_c = dim(tx, 3);
      if (dim(ty, 0) != batches) return check.fail("output batch %d differs from input batch %d", dim(ty, 0), batches);
      fb::Padding padding = fb::Padding_SAME;
      fb::ActivationFunctionType act = fb::ActivationFunctionType_NONE;
      int out_c = in_c;
      if (info.type == OpType::kAveragePool2D) {
        const fb::Pool2DOptions* o = op->builtin_options_as_Pool2DOptions();
        if (o == nullptr) return check.fail("Pool2DOptions are missing");
        padding = o->padding();
        act = o->fused_activation_function();
        info.stride_h = o->stride_h(); info.stride_w = o->stride_w();
        info.filter_h = o->filter_height(); info.filter_w = o->filter_width();
        if (info.filter_h < 1 || info.filter_w < 1 || static_cast<std::int64_t>(info.filter_h) * info.filter_w > kMaxPoolWindow)
          return check.fail("pool window %dx%d is invalid", info.filter_h, info.filter_w);
        const auto* qx = tx->quantization(); const auto* qy = ty->quantization();
        if (qx->scale()->Get(0) != qy->scale()->Get(0) || qx->zero_point()->Get(0) != qy->zero_point()->Get(0))
          return check.fail("input and output quantization differ; int8 AVERAGE_POOL_2D does not rescale");
      } else {
        const int w = info.inputs[1];
        const fb::Tensor* tw = check.tensor(w);
        if (!tw->shape() || tw->shape()->size() != 4)
          return check.fail("weights tensor %d has rank %u, expected 4", w, static_cast<unsigned>(tw->shape() ? tw->shape()->size() : 0));
        info.filter_h = dim(tw, 1);
        info.filter_w = dim(tw, 2);
        if (info.type == OpType::kConv2D) {
          const fb::Conv2DOptions* o = op->builtin_options_as_Conv2DOptions();
          if (o == nullptr) return check.fail("Conv2DOptions are missing");
          padding = o->padding(); act = o->fused_activation_function();
          info.stride_h = o->stride_h(); info.stride_w = o->stride_w();
          info.dilation_h = o->dilation_h_factor(); info.dilation_w = o->dilation_w_factor();
          out_c = dim(tw, 0);
          if (dim(tw, 3) != in_c) return check.fail("weights tensor %d has %d input channels, the input has %d", w, dim(tw, 3), in_c);
          s = check.weights(w, out_c, 0, is_const[w]);
          if (!s) return s;
          if (static_cast<std::int64_t>(info.filter_h) * info.filter_w * in_c > kMaxAccumulatedTerms)
            return check.fail("filter %dx%dx%d is too large for an int32 accumulator", info.filter_h, info.filter_w, in_c);
        } else {
          const fb::DepthwiseConv2DOptions* o = op->builtin_options_as_DepthwiseConv2DOptions();
          if (o == nullptr) return check.fail("DepthwiseConv2DOptions are missing");
          padding = o->padding(); act = o->fused_activation_function();
          info.stride_h = o->stride_h(); info.stride_w = o->stride_w();
          info.dilation_h = o->dilation_h_factor(); info.dilation_w = o->dilation_w_factor();
          if (dim(tw, 0) != 1) return check.fail("weights tensor %d has leading dimension %d, expected 1", w, dim(tw, 0));
          out_c = dim(tw, 3);
          if (out_c % in_c != 0) return check.fail("weights tensor %d has %d channels, not a multiple of the input's %d", w, out_c, in_c);
          info.depth_multiplier = out_c / in_c;
          if (o->depth_multiplier() > 0 && o->depth_multiplier() != info.depth_multiplier)
            return check.fail("depth multiplier is %d but the weights imply %d", static_cast<int>(o->depth_multiplier()), info.depth_multiplier);
          s = check.weights(w, out_c, 3, is_const[w]);
          if (!s) return s;
          if (static_cast<std::int64_t>(info.filter_h) * info.filter_w > kMaxAccumulatedTerms)
            return check.fail("filter %dx%d is too large for an int32 accumulator", info.filter_h, info.filter_w);
        }
        if (n_in == 3 && info.inputs[2] >= 0) {
          s = check.bias(info.inputs[2], out_c, is_const[info.inputs[2]]);
          if (!s) return s;
        }
        s = check.multipliers(x, w, y);
        if (!s) return s;
      }
      if (info.stride_h < 1 || info.stride_w < 1) return check.fail("stride %dx%d is invalid", info.stride_h, info.stride_w);
      if (info.dilation_h < 1 || info.dilation_w < 1) return check.fail("dilation %dx%d is invalid", info.dilation_h, info.dilation_w);
      if (info.stride_h > 4096 || info.stride_w > 4096 || info.dilation_h > 4096 || info.dilation_w > 4096 ||
          info.filter_h > 4096 || info.filter_w > 4096)
        return check.fail("stride, dilation or filter size is absurdly large");
      if (padding != fb::Padding_SAME && padding != fb::Padding_VALID) return check.fail("unknown padding %d", static_cast<int>(padding));
      info.padding = padding == fb::Padding_SAME ? Padding::kSame : Padding::kValid;
      switch (act) {
        case fb::ActivationFunctionType_NONE: info.activation = Activation::kNone; break;
        case fb::ActivationFunctionType_RELU: info.activation = Activation::kRelu; break;
        case fb::ActivationFunctionType_RELU_N1_TO_1: info.activation = Activation::kReluN1To1; break;
        case fb::ActivationFunctionType_RELU6: info.activation = Activation::kRelu6; break;
        default: return check.fail("unsupported fused activation %d", static_cast<int>(act));
      }
      const int out_h = kernels::output_size(info.padding, in_h, info.filter_h, info.stride_h, info.dilation_h);
      const int out_w = kernels::output_size(info.padding, in_w, info.filter_w, info.stride_w, info.dilation_w);
      if (out_h < 1 || out_w < 1) return check.fail("filter %dx%d does not fit the %dx%d input with VALID padding",
                                                    info.filter_h, info.filter_w, in_h, in_w);
      if (dim(ty, 1) != out_h || dim(ty, 2) != out_w || dim(ty, 3) != out_c)
        return check.fail("output tensor %d has shape [%d,%d,%d,%d], expected [%d,%d,%d,%d]", y, dim(ty, 0), dim(ty, 1),
                          dim(ty, 2), dim(ty, 3), batches, out_h, out_w, out_c);
      const std::int64_t outputs = static_cast<std::int64_t>(batches) * out_h * out_w * out_c;
      const std::int64_t per_output = static_cast<std::int64_t>(info.filter_h) * info.filter_w *
                                      (info.type == OpType::kConv2D ? in_c : 1);
      info.macs = info.type == OpType::kAveragePool2D ? 0 : outputs * per_output;
    }

    // Lifetimes for the planner.
    written[y] = true;
    for (int k = 0; k < n_in; ++k) {
      const int t = info.inputs[k];
      if (t >= 0 && !is_const[t] && written[t]) plans_[t].last_op = static_cast<std::int16_t>(i);
      else if (t >= 0 && !is_const[t] && !(info.type == OpType::kReshape && k == 1))
        return check.fail("input tensor %d is not produced by an earlier operator", t);
    }
    plans_[y].first_op = static_cast<std::int16_t>(i);
    plans_[y].last_op = static_cast<std::int16_t>(i);
    if (info.type == OpType::kReshape) plans_[y].alias_of = static_cast<std::int16_t>(x);
  }
  if (!written[output_] || output_ == input_) return Status::Error("subgraph output tensor %d is not produced by any operator", output_);
  plans_[output_].last_op = static_cast<std::int16_t>(num_operators_);
  embedding_ = -1;
  for (int i = num_operators_ - 1; i >= 0 && embedding_ < 0; --i) {
    if (ops_[i].type == OpType::kConv2D) embedding_ = ops_[i].inputs[0];
  }
  // Kept until the end of invoke(), so that it can be read with the outputs (no op overwrites it).
  if (embedding_ >= 0 && embedding_ != input_) plans_[embedding_].last_op = static_cast<std::int16_t>(num_operators_);

  // Sizes of activations, and the unique weight and bias buffers (not RESHAPE's shape operand).
  bool is_parameter[kMaxTensors] = {};
  for (int i = 0; i < num_operators_; ++i) {
    if (ops_[i].type != OpType::kConv2D && ops_[i].type != OpType::kDepthwiseConv2D) continue;
    for (int k = 1; k < ops_[i].num_inputs; ++k) if (ops_[i].inputs[k] >= 0) is_parameter[ops_[i].inputs[k]] = true;
  }
  bool buffer_counted[kMaxTensors] = {};
  for (int t = 0; t < num_tensors_; ++t) {
    const TensorInfo info = tensor(t);
    if (written[t]) plans_[t].size = static_cast<std::int32_t>(info.bytes);
    if (is_const[t] && is_parameter[t]) {
      const std::uint32_t b = graph->tensors()->Get(static_cast<flatbuffers::uoffset_t>(t))->buffer();
      bool seen = false;
      for (int u = 0; u < t && !seen; ++u) seen = buffer_counted[u] && graph->tensors()->Get(static_cast<flatbuffers::uoffset_t>(u))->buffer() == b;
      if (!seen) {
        parameter_bytes_ += info.bytes;
        parameter_count_ += static_cast<std::size_t>(info.shape.elements());
      }
      buffer_counted[t] = true;
    }
  }
  return plan_arena();
}

Status Model::plan_arena() {
  return plan::plan_arena(plans_, num_tensors_, num_operators_, &arena_bytes_, &arena_lower_bound_);
}

}  // namespace micronet_ad
