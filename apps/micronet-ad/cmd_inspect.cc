// micronet-ad inspect MODEL: what the model is, what it costs, how much memory it needs.
#include <algorithm>
#include <cstdio>
#include <string>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "host/io/model_file.h"
#include "micronet_ad/interpreter.h"

namespace micronet_ad::cli {
namespace {

std::string dims_string(const Shape& s) {
  std::string out = "[";
  for (int i = 0; i < s.rank; ++i) out += (i ? "," : "") + std::to_string(s.dims[i]);
  return out + "]";
}

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

nlohmann::json inspect_json(const host::ModelFile& file) {
  const Model& m = file.model;
  nlohmann::json j;
  j["path"] = file.path;
  j["bytes"] = m.size();
  j["schema_version"] = m.schema_version();
  const TensorInfo in = m.tensor(m.input_tensor()), out = m.tensor(m.output_tensor());
  j["input"] = {{"tensor", in.index}, {"name", in.name}, {"shape", dims_string(in.shape)}, {"quantization", quant_json(in)}};
  j["output"] = {{"tensor", out.index}, {"name", out.name}, {"shape", dims_string(out.shape)}, {"quantization", quant_json(out)}};
  nlohmann::json ops = nlohmann::json::array();
  for (int i = 0; i < m.num_operators(); ++i) {
    const OperatorInfo& op = m.op(i);
    const TensorInfo x = m.tensor(op.inputs[0]), y = m.tensor(op.output);
    nlohmann::json o = {{"index", i}, {"type", op_name(op.type)}, {"input", dims_string(x.shape)},
                        {"output", dims_string(y.shape)}, {"input_tensor", x.index}, {"output_tensor", y.index},
                        {"macs", op.macs}, {"input_quantization", quant_json(x)}, {"output_quantization", quant_json(y)}};
    std::size_t params = 0;
    if (op.type != OpType::kReshape) {
      o["kernel"] = std::to_string(op.filter_h) + "x" + std::to_string(op.filter_w);
      o["stride"] = std::to_string(op.stride_h) + "x" + std::to_string(op.stride_w);
      o["padding"] = padding_name(op.padding);
      o["activation"] = activation_name(op.activation);
    }
    if (op.type == OpType::kConv2D || op.type == OpType::kDepthwiseConv2D) {
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
  j["interpreter_memory_bytes"] = Interpreter::required_memory(m);
  return j;
}

void print_table(const nlohmann::json& j) {
  fmt::print("{}  ({} bytes, schema v{})\n", j["path"].get<std::string>(), j["bytes"].get<std::size_t>(),
             j["schema_version"].get<unsigned>());
  auto q = [](const nlohmann::json& qj) {
    return qj.contains("scale") ? fmt::format("scale {:.9g} zp {}", qj["scale"].get<double>(), qj["zero_point"].get<int>())
                                : std::string("-");
  };
  fmt::print("input  tensor {} {} int8, {}\n", j["input"]["tensor"].get<int>(), j["input"]["shape"].get<std::string>(),
             q(j["input"]["quantization"]));
  fmt::print("output tensor {} {} int8, {}\n\n", j["output"]["tensor"].get<int>(), j["output"]["shape"].get<std::string>(),
             q(j["output"]["quantization"]));
  fmt::print("{:>3}  {:<18} {:<15} {:<15} {:<6} {:<6} {:<6} {:<6} {:>12} {:>9}  {}\n", "#", "operator", "input", "output",
             "kernel", "stride", "pad", "act", "MACs", "params B", "weight scales");
  for (const auto& o : j["operators"]) {
    std::string ws = "-";
    if (o.contains("weights_quantization")) {
      const auto& w = o["weights_quantization"];
      ws = w.contains("scale_min") ? fmt::format("{} ch, {:.3g}..{:.3g}", w["channels"].get<int>(), w["scale_min"].get<double>(),
                                                 w["scale_max"].get<double>())
                                   : fmt::format("{:.3g}", w["scale"].get<double>());
    }
    fmt::print("{:>3}  {:<18} {:<15} {:<15} {:<6} {:<6} {:<6} {:<6} {:>12} {:>9}  {}\n", o["index"].get<int>(),
               o["type"].get<std::string>(), o["input"].get<std::string>(), o["output"].get<std::string>(),
               o.value("kernel", "-"), o.value("stride", "-"), o.value("padding", "-"), o.value("activation", "-"),
               o["macs"].get<long long>(), o["parameter_bytes"].get<std::size_t>(), ws);
  }
  fmt::print("\ntotal MACs       {}\n", j["total_macs"].get<long long>());
  fmt::print("parameters       {} ({} bytes, shared tensors counted once)\n", j["parameters"].get<std::size_t>(),
             j["parameter_bytes"].get<std::size_t>());
  fmt::print("arena bytes      {} (layer-at-a-time lower bound {})\n", j["arena_bytes"].get<std::size_t>(),
             j["arena_lower_bound_bytes"].get<std::size_t>());
  fmt::print("interpreter memory {} bytes (arena + per-channel requantization data)\n",
             j["interpreter_memory_bytes"].get<std::size_t>());
}

}  // namespace

void add_inspect_command(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("inspect", "Show a model's operators, shapes, quantization, MACs and memory");
  static std::string model;
  static bool json = false;
  cmd->add_option("MODEL", model, "Model file (.tflite) or small|medium|large")->required();
  cmd->add_flag("--json", json, "Print JSON instead of a table");
  cmd->callback([exit_code] {
    const auto file = host::load_model_file(model);
    const nlohmann::json j = inspect_json(*file);
    if (json) fmt::print("{}\n", j.dump(2));
    else print_table(j);
    *exit_code = 0;
  });
}

}  // namespace micronet_ad::cli
