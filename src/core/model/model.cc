// Model loading: flatbuffer verification first, then semantic checks of everything the
// interpreter will touch, so that no later code reads outside the file or trusts a shape.
#include "micronet_ad/model.h"

#include <cmath>
#include <cstring>
#include <new>

#include "ops/op_checker.h"
#include "ops/op_table.h"
#include "plan/arena_planner.h"
#include "quant/quantization.h"
#include "tflite_subset_generated.h"

namespace micronet_ad {
namespace fb = tflite_subset;

namespace {

constexpr std::uint32_t kSchemaVersion = 3;
constexpr std::int64_t kMaxTensorBytes = std::int64_t{1} << 28;  // 256 MiB: far above any MicroNet
// Names of TFLite builtin operator codes (schema.fbs), for a clear refusal of those we do not run.
const char* builtin_name(int code) {
  switch (code) {
    case 0:
      return "ADD";
    case 1:
      return "AVERAGE_POOL_2D";
    case 2:
      return "CONCATENATION";
    case 3:
      return "CONV_2D";
    case 4:
      return "DEPTHWISE_CONV_2D";
    case 6:
      return "DEQUANTIZE";
    case 9:
      return "FULLY_CONNECTED";
    case 14:
      return "LOGISTIC";
    case 17:
      return "MAX_POOL_2D";
    case 18:
      return "MUL";
    case 19:
      return "RELU";
    case 21:
      return "RELU6";
    case 22:
      return "RESHAPE";
    case 25:
      return "SOFTMAX";
    case 28:
      return "TANH";
    case 32:
      return "CUSTOM";
    case 34:
      return "PAD";
    case 40:
      return "MEAN";
    case 114:
      return "QUANTIZE";
    default:
      return "builtin";
  }
}

int element_size(fb::TensorType t) {
  switch (t) {
    case fb::TensorType_INT8:
    case fb::TensorType_UINT8:
    case fb::TensorType_BOOL:
      return 1;
    case fb::TensorType_INT16:
    case fb::TensorType_FLOAT16:
    case fb::TensorType_UINT16:
      return 2;
    case fb::TensorType_INT32:
    case fb::TensorType_FLOAT32:
    case fb::TensorType_UINT32:
      return 4;
    case fb::TensorType_INT64:
    case fb::TensorType_FLOAT64:
    case fb::TensorType_COMPLEX64:
    case fb::TensorType_UINT64:
      return 8;
    case fb::TensorType_COMPLEX128:
      return 16;
    default:
      return 0;
  }
}

// The checks every operator gets from its table row: arity, tensor indices, activation inputs
// written by earlier operators, an output written exactly once.
Status check_operands(const ops::OpChecker& check, const ops::OpDef& def, const bool* written, OperatorInfo* info) {
  const fb::Operator* op = check.op();
  if (op->inputs() == nullptr || op->outputs() == nullptr) return check.fail("inputs or outputs are missing");
  const int n_in = static_cast<int>(op->inputs()->size());
  const int n_out = static_cast<int>(op->outputs()->size());
  if (n_in < def.min_inputs || n_in > def.max_inputs)
    return check.fail("has %d inputs, expected %d to %d", n_in, def.min_inputs, def.max_inputs);
  if (n_out != 1) return check.fail("has %d outputs, expected 1", n_out);
  const int num_tensors = check.num_tensors();
  info->num_inputs = n_in;
  for (int k = 0; k < n_in; ++k) {
    const int t = op->inputs()->Get(static_cast<flatbuffers::uoffset_t>(k));
    const bool optional = k == def.optional_input && t == -1;  // no bias
    if (!optional && (t < 0 || t >= num_tensors))
      return check.fail("input %d refers to tensor %d, but the model has %d", k, t, num_tensors);
    info->inputs[k] = t;
  }
  info->output = op->outputs()->Get(0);
  if (info->output < 0 || info->output >= num_tensors)
    return check.fail("output refers to tensor %d, but the model has %d", info->output, num_tensors);
  for (int k = 0; k < def.activation_inputs; ++k) {
    const int x = info->inputs[k];
    if (check.is_const(x) || !written[x])
      return check.fail("input tensor %d is not produced by an earlier operator", x);
  }
  const int y = info->output;
  if (check.is_const(y) || written[y]) return check.fail("output tensor %d is a constant or written twice", y);
  return Status::Ok();
}

}  // namespace

const char* op_name(OpType type) { return ops::def(type).name; }

const char* padding_name(Padding padding) { return padding == Padding::kSame ? "SAME" : "VALID"; }

const char* activation_name(Activation activation) {
  switch (activation) {
    case Activation::kNone:
      return "NONE";
    case Activation::kRelu:
      return "RELU";
    case Activation::kReluN1To1:
      return "RELU_N1_TO_1";
    case Activation::kRelu6:
      return "RELU6";
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
    for (int i = 0; i < info.shape.rank && i < kMaxRank; ++i)
      info.shape.dims[i] = t->shape()->Get(static_cast<flatbuffers::uoffset_t>(i));
  }
  info.bytes = static_cast<std::size_t>(info.shape.elements() * element_size(t->type()));
  if (const fb::QuantizationParameters* q = t->quantization()) {
    if (q->scale() && q->scale()->size() > 0) {
      info.scales = q->scale()->data();
      info.num_scales = static_cast<int>(q->scale()->size());
    }
    if (q->zero_point() && q->zero_point()->size() > 0)
      info.zero_point = static_cast<std::int32_t>(q->zero_point()->Get(0));
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
  if (size >= FLATBUFFERS_MAX_BUFFER_SIZE)
    return Status::Error("model has %zu bytes, more than a flatbuffer can hold", size);
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
    return Status::Error("model has %u subgraphs, expected exactly 1",
                         static_cast<unsigned>(model->subgraphs() ? model->subgraphs()->size() : 0));
  const fb::SubGraph* graph = model->subgraphs()->Get(0);
  subgraph_ = graph;
  buffers_ = model->buffers();
  if (graph->tensors() == nullptr || graph->tensors()->size() == 0) return Status::Error("subgraph has no tensors");
  if (graph->operators() == nullptr || graph->operators()->size() == 0)
    return Status::Error("subgraph has no operators");
  if (graph->tensors()->size() > static_cast<flatbuffers::uoffset_t>(kMaxTensors))
    return Status::Error("subgraph has %u tensors, at most %d are supported",
                         static_cast<unsigned>(graph->tensors()->size()), kMaxTensors);
  if (graph->operators()->size() > static_cast<flatbuffers::uoffset_t>(kMaxOperators))
    return Status::Error("subgraph has %u operators, at most %d are supported",
                         static_cast<unsigned>(graph->operators()->size()), kMaxOperators);
  num_tensors_ = static_cast<int>(graph->tensors()->size());
  num_operators_ = static_cast<int>(graph->operators()->size());

  bool is_const[kMaxTensors] = {};
  Status s = validate_tensors(is_const);
  if (!s) return s;
  s = validate_io(is_const);
  if (!s) return s;
  bool written[kMaxTensors] = {};
  s = validate_operators(is_const, written);
  if (!s) return s;
  count_parameters(is_const, written);
  return plan_arena();
}

Status Model::validate_tensors(bool* is_const) {
  const auto* graph = static_cast<const fb::SubGraph*>(subgraph_);
  const auto* buffers = static_cast<const flatbuffers::Vector<flatbuffers::Offset<fb::Buffer>>*>(buffers_);
  // Tensors: shapes, sizes and constant data.
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
      if (d <= 0)
        return Status::Error("tensor %d has dimension %d of size %lld; sizes must be positive", t, i,
                             static_cast<long long>(d));
      if (d > kMaxTensorBytes || bytes * d > kMaxTensorBytes)
        return Status::Error("tensor %d is too large (dimension %d is %lld; at most %lld bytes per tensor)", t, i,
                             static_cast<long long>(d), static_cast<long long>(kMaxTensorBytes));
      bytes *= d;
    }
    const std::uint32_t b = x->buffer();
    const std::uint32_t num_buffers = buffers ? buffers->size() : 0;
    if (b != 0 && b >= num_buffers)
      return Status::Error("tensor %d refers to buffer %u, but the model has %u buffers", t, static_cast<unsigned>(b),
                           static_cast<unsigned>(num_buffers));
    const fb::Buffer* buf = (b < num_buffers) ? buffers->Get(b) : nullptr;
    if (buf != nullptr && (buf->offset() > 1 || buf->size() > 0))
      return Status::Error("tensor %d uses an external buffer (offset %llu); such models are not supported", t,
                           static_cast<unsigned long long>(buf->offset()));
    if (buf != nullptr && buf->data() != nullptr && buf->data()->size() > 0) {
      if (static_cast<std::int64_t>(buf->data()->size()) != bytes)
        return Status::Error("tensor %d (%s) has %u bytes of data in buffer %u, expected %lld for its shape and type",
                             t, x->name() ? x->name()->c_str() : "", static_cast<unsigned>(buf->data()->size()),
                             static_cast<unsigned>(b), static_cast<long long>(bytes));
      is_const[t] = true;
    }
  }

  return Status::Ok();
}

Status Model::validate_io(const bool* is_const) {
  const auto* graph = static_cast<const fb::SubGraph*>(subgraph_);
  // Graph inputs and outputs.
  if (graph->inputs() == nullptr || graph->inputs()->size() != 1)
    return Status::Error("subgraph has %u inputs, expected 1",
                         static_cast<unsigned>(graph->inputs() ? graph->inputs()->size() : 0));
  if (graph->outputs() == nullptr || graph->outputs()->size() != 1)
    return Status::Error("subgraph has %u outputs, expected 1",
                         static_cast<unsigned>(graph->outputs() ? graph->outputs()->size() : 0));
  input_ = graph->inputs()->Get(0);
  output_ = graph->outputs()->Get(0);
  if (input_ < 0 || input_ >= num_tensors_)
    return Status::Error("subgraph input refers to tensor %d of %d", input_, num_tensors_);
  if (output_ < 0 || output_ >= num_tensors_)
    return Status::Error("subgraph output refers to tensor %d of %d", output_, num_tensors_);
  if (is_const[input_]) return Status::Error("subgraph input tensor %d is a constant", input_);
  for (int which = 0; which < 2; ++which) {
    const int t = which == 0 ? input_ : output_;
    const fb::Tensor* x = graph->tensors()->Get(static_cast<flatbuffers::uoffset_t>(t));
    const auto* q = x->quantization();
    if (x->type() != fb::TensorType_INT8 || q == nullptr || q->scale() == nullptr || q->scale()->size() != 1 ||
        q->zero_point() == nullptr || q->zero_point()->size() != 1)
      return Status::Error("subgraph %s tensor %d must be INT8 with one scale and zero point",
                           which == 0 ? "input" : "output", t);
  }

  return Status::Ok();
}

// Every operator through its row of the op table (src/core/ops/op_table.h), in execution order.
Status Model::validate_operators(const bool* is_const, bool* written) {
  const auto* graph = static_cast<const fb::SubGraph*>(subgraph_);
  const auto* codes = fb::GetModel(data_)->operator_codes();
  // Operators, in execution order: every activation input must already exist.
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
    const int builtin =
        code->builtin_code() > code->deprecated_builtin_code() ? code->builtin_code() : code->deprecated_builtin_code();
    OperatorInfo& info = ops_[i];
    info = OperatorInfo();
    const ops::OpDef* def = ops::find_builtin(builtin);
    if (def == nullptr) {
      if (builtin == 32 && code->custom_code())
        return Status::Error("operator %d: unsupported custom operator '%s'", i, code->custom_code()->c_str());
      char supported[128];
      ops::supported_list(supported, sizeof(supported));
      return Status::Error("operator %d: unsupported operator %s (builtin code %d); micronet-ad runs %s", i,
                           builtin_name(builtin), builtin, supported);
    }
    info.type = def->type;
    const ops::OpChecker check(graph, op, i, def->name, is_const);
    Status s = check_operands(check, *def, written, &info);
    if (!s) return s;
    s = def->validate(check, &info);
    if (!s) return s;
    info.macs = def->macs(*this, info);

    // Lifetimes for the planner.
    const int y = info.output;
    written[y] = true;
    for (int k = 0; k < info.num_inputs; ++k) {
      const int t = info.inputs[k];
      if (t >= 0 && !is_const[t] && written[t])
        plans_[t].last_op = static_cast<std::int16_t>(i);
      else if (t >= 0 && !is_const[t] && k < def->activation_inputs)
        return check.fail("input tensor %d is not produced by an earlier operator", t);
    }
    plans_[y].first_op = static_cast<std::int16_t>(i);
    plans_[y].last_op = static_cast<std::int16_t>(i);
    if (def->output_aliases_input) plans_[y].alias_of = static_cast<std::int16_t>(info.inputs[0]);
  }
  if (!written[output_] || output_ == input_)
    return Status::Error("subgraph output tensor %d is not produced by any operator", output_);
  plans_[output_].last_op = static_cast<std::int16_t>(num_operators_);
  embedding_ = -1;
  for (int i = num_operators_ - 1; i >= 0 && embedding_ < 0; --i) {
    if (ops_[i].type == OpType::kConv2D) embedding_ = ops_[i].inputs[0];
  }
  // Kept until the end of invoke(), so that it can be read with the outputs (no op overwrites it).
  if (embedding_ >= 0 && embedding_ != input_) plans_[embedding_].last_op = static_cast<std::int16_t>(num_operators_);

  return Status::Ok();
}

void Model::count_parameters(const bool* is_const, const bool* written) {
  const auto* graph = static_cast<const fb::SubGraph*>(subgraph_);
  // Sizes of activations, and the unique weight and bias buffers (not RESHAPE's shape operand).
  bool is_parameter[kMaxTensors] = {};
  for (int i = 0; i < num_operators_; ++i) {
    if (!ops::def(ops_[i].type).channel_params) continue;
    for (int k = 1; k < ops_[i].num_inputs; ++k)
      if (ops_[i].inputs[k] >= 0) is_parameter[ops_[i].inputs[k]] = true;
  }
  bool buffer_counted[kMaxTensors] = {};
  for (int t = 0; t < num_tensors_; ++t) {
    const TensorInfo info = tensor(t);
    if (written[t]) plans_[t].size = static_cast<std::int32_t>(info.bytes);
    if (is_const[t] && is_parameter[t]) {
      const std::uint32_t b = graph->tensors()->Get(static_cast<flatbuffers::uoffset_t>(t))->buffer();
      bool seen = false;
      for (int u = 0; u < t && !seen; ++u)
        seen = buffer_counted[u] && graph->tensors()->Get(static_cast<flatbuffers::uoffset_t>(u))->buffer() == b;
      if (!seen) {
        parameter_bytes_ += info.bytes;
        parameter_count_ += static_cast<std::size_t>(info.shape.elements());
      }
      buffer_counted[t] = true;
    }
  }
}

Status Model::plan_arena() {
  return plan::plan_arena(plans_, num_tensors_, num_operators_, &arena_bytes_, &arena_lower_bound_);
}

}  // namespace micronet_ad
