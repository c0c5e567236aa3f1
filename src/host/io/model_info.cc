#include "host/io/model_info.h"

#include <algorithm>

#include "host/io/sha1.h"
#include "micronet_ad/interpreter.h"

namespace micronet_ad::host {
namespace {

nlohmann::json quant_json(const TensorInfo& t) {
  nlohmann::json q;
  if (t.num_scales == 1) {
    q["scale"] = t.scale();
    q["zero_point"] = t.zero_point;
  } else if (t.num_scales > 1) {
    const auto [lo, hi] = std::minmax_element(t.scales, t.scales + t.num_scales);
    q["channels"] = t.num_scales;
    q["scale_min"] = *lo;
    q["scale_max"] = *hi;
  }
  return q;
}

}  // namespace

nlohmann::json shape_json(const Shape& s) {
  nlohmann::json dims = nlohmann::json::array();
  for (int i = 0; i < s.rank; ++i) dims.push_back(s.dims[i]);
  return dims;
}

std::string dims_string(const nlohmann::json& shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) out += (i ? "," : "") + std::to_string(shape[i].get<long long>());
  return out + "]";
}

std::string model_sha1(const ModelFile& file) { return sha1_hex(file.bytes(), file.model.size()); }

nlohmann::json model_info_json(const ModelFile& file) {
  const Model& m = file.model;
  nlohmann::json j;
  j["path"] = file.path;
  j["bytes"] = m.size();
  j["sha1"] = model_sha1(file);
  j["schema_version"] = m.schema_version();
  const TensorInfo in = m.tensor(m.input_tensor()), out = m.tensor(m.output_tensor());
  j["input"] = {
      {"tensor", in.index}, {"name", in.name}, {"shape", shape_json(in.shape)}, {"quantization", quant_json(in)}};
  j["output"] = {
      {"tensor", out.index}, {"name", out.name}, {"shape", shape_json(out.shape)}, {"quantization", quant_json(out)}};
  nlohmann::json ops = nlohmann::json::array();
  for (int i = 0; i < m.num_operators(); ++i) {
    const OperatorInfo& op = m.op(i);
    const TensorInfo x = m.tensor(op.inputs[0]), y = m.tensor(op.output);
    nlohmann::json o = {{"index", i},
                        {"type", op_name(op.type)},
                        {"input", shape_json(x.shape)},
                        {"output", shape_json(y.shape)},
                        {"input_tensor", x.index},
                        {"output_tensor", y.index},
                        {"macs", op.macs},
                        {"input_quantization", quant_json(x)},
                        {"output_quantization", quant_json(y)}};
    std::size_t params = 0;
    const OpTraits traits = op_traits(op.type);
    if (traits.window) {
      o["kernel"] = std::to_string(op.filter_h) + "x" + std::to_string(op.filter_w);
      o["stride"] = std::to_string(op.stride_h) + "x" + std::to_string(op.stride_w);
      o["padding"] = padding_name(op.padding);
    }
    if (traits.fused_activation) o["activation"] = activation_name(op.activation);
    if (traits.weights) {
      const TensorInfo w = m.tensor(op.inputs[1]);
      o["weights_tensor"] = w.index;
      o["weights_quantization"] = quant_json(w);
      params += w.bytes;
      if (op.num_inputs > 2 && op.inputs[2] >= 0) {
        o["bias_tensor"] = op.inputs[2];
        params += m.tensor(op.inputs[2]).bytes;
      }
    }
    o["parameter_bytes"] = params;
    ops.push_back(o);
  }
  j["operators"] = ops;
  j["total_macs"] = m.total_macs();
  j["parameter_bytes"] = m.parameter_bytes();
  j["parameters"] = m.parameter_count();
  j["arena_bytes"] = m.arena_bytes();
  j["arena_lower_bound_bytes"] = m.arena_lower_bound();
  // Reference kernels need only the arena and per-channel multipliers; optimized kernels add
  // packed copies of the weights.
  j["interpreter_memory_bytes"] = Interpreter::required_memory(m, KernelSet::kReference);
  j["interpreter_memory_bytes_optimized"] = Interpreter::required_memory(m, KernelSet::kAuto);
  // Row-band execution (InterpreterOptions::band_fusion): the arena and memory it needs.
  InterpreterOptions banded;
  banded.kernels = KernelSet::kReference;
  banded.band_fusion = true;
  j["arena_bytes_band_fusion"] = Interpreter::arena_bytes(m, true);
  j["interpreter_memory_bytes_band_fusion"] = Interpreter::required_memory(m, banded);
  return j;
}

}  // namespace micronet_ad::host
