// The description is host::model_info_json's (the HTTP service's GET /v1/model answers the same);
// the tables are printed from that JSON, so both formats carry the same numbers.
#include "cmd_inspect.h"

#include <algorithm>
#include <cstdint>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "host/detect/clip_scorer.h"
#include "host/io/default_model.h"
#include "host/io/model_file.h"
#include "host/io/model_info.h"
#include "micronet_ad/detector.h"
#include "micronet_ad/interpreter.h"

namespace micronet_ad::cli {
namespace {

// "scale 0.191926181 zp -128", or "-" for a tensor without quantization.
std::string quantization_text(const nlohmann::json& q) {
  return q.contains("scale") ? fmt::format("scale {:.9g} zp {}", q["scale"].get<double>(), q["zero_point"].get<int>())
                             : std::string("-");
}

// "276 ch, 0.00123..0.0456" (per channel) or "0.00123".
std::string weight_scales_text(const nlohmann::json& op) {
  if (!op.contains("weights_quantization")) return "-";
  const auto& w = op["weights_quantization"];
  return w.contains("scale_min") ? fmt::format("{} ch, {:.3g}..{:.3g}", w["channels"].get<int>(),
                                               w["scale_min"].get<double>(), w["scale_max"].get<double>())
                                 : fmt::format("{:.3g}", w["scale"].get<double>());
}

std::string tensor_line(const char* label, const nlohmann::json& t) {
  return fmt::format("{} tensor {} {} int8, {}\n", label, t["tensor"].get<int>(), host::dims_string(t["shape"]),
                     quantization_text(t["quantization"]));
}

void print_tensors(std::FILE* out, const nlohmann::json& j) {
  print_text(out, fmt::format("{}  ({} bytes, schema v{})\n", j["path"].get<std::string>(),
                              j["bytes"].get<std::size_t>(), j["schema_version"].get<unsigned>()));
  print_text(out, tensor_line("input ", j["input"]) + tensor_line("output", j["output"]));
}

std::string operator_table(const nlohmann::json& j) {
  const host::TextTable table(host::TextFormat::kTable, {{"#", false, 3},
                                                         {"operator", true, 18},
                                                         {"input", true, 15},
                                                         {"output", true, 15},
                                                         {"kernel", true, 6},
                                                         {"stride", true, 6},
                                                         {"pad", true, 6},
                                                         {"act", true, 6},
                                                         {"MACs", false, 12},
                                                         {"params B", false, 9},
                                                         {"weight scales", true}});
  std::string text = table.header();
  for (const auto& o : j["operators"]) {
    text +=
        table.row({std::to_string(o["index"].get<int>()), o["type"].get<std::string>(), host::dims_string(o["input"]),
                   host::dims_string(o["output"]), o.value("kernel", "-"), o.value("stride", "-"),
                   o.value("padding", "-"), o.value("activation", "-"), std::to_string(o["macs"].get<long long>()),
                   std::to_string(o["parameter_bytes"].get<std::size_t>()), weight_scales_text(o)});
  }
  return text;
}

void print_totals(std::FILE* out, const nlohmann::json& j) {
  print_text(out, fmt::format("total MACs       {}\n", j["total_macs"].get<long long>()));
  print_text(out, fmt::format("parameters       {} ({} bytes, shared tensors counted once)\n",
                              j["parameters"].get<std::size_t>(), j["parameter_bytes"].get<std::size_t>()));
  // With InterpreterOptions::band_fusion, row bands go below the layer-at-a-time bound.
  print_text(out, fmt::format("arena bytes      {} (layer-at-a-time lower bound {}); with band fusion {}\n",
                              j["arena_bytes"].get<std::size_t>(), j["arena_lower_bound_bytes"].get<std::size_t>(),
                              j["arena_bytes_band_fusion"].get<std::size_t>()));
  print_text(out, fmt::format("interpreter memory {} bytes with reference kernels (arena + per-channel requantization "
                              "data),\n                 {} bytes with this CPU's optimized kernels (+ packed weight "
                              "copies)\n",
                              j["interpreter_memory_bytes"].get<std::size_t>(),
                              j["interpreter_memory_bytes_optimized"].get<std::size_t>()));
}

// --probe: real audio through the model. Per layer, how many activations sit at the bottom and
// top of their clamp range (saturated ReLU6 layers lose information); per output, how much it
// moves across windows (a model whose outputs do not move is not listening: docs/scores.md).
class Probe {
 public:
  explicit Probe(const Model& model) : layers_(model.num_operators()) {
    for (int i = 0; i < model.num_operators(); ++i) {
      const Int8Range range = model.output_range(i);
      layers_[i].act_min = range.min;
      layers_[i].act_max = range.max;
    }
  }

  static void observe(void* context, int op, const TensorInfo& output, const std::int8_t* data) {
    Layer& layer = static_cast<Probe*>(context)->layers_[op];
    const auto n = static_cast<std::size_t>(output.shape.elements());
    layer.values += n;
    layer.at_min += std::count(data, data + n, static_cast<std::int8_t>(layer.act_min));
    layer.at_max += std::count(data, data + n, static_cast<std::int8_t>(layer.act_max));
    for (std::size_t i = 0; i < n; ++i) layer.seen[static_cast<std::uint8_t>(data[i])] = true;
  }

  void add_clip(const std::string& path, const host::ClipResult& r) {
    for (const auto& o : r.outputs) {
      for (int i = 0; i < kNumOutputs; ++i) {
        out_min_[i] = windows_ == 0 ? o[i] : std::min(out_min_[i], o[i]);
        out_max_[i] = windows_ == 0 ? o[i] : std::max(out_max_[i], o[i]);
      }
      ++windows_;
    }
    clips_.push_back({{"path", path},
                      {"windows", r.clip.windows},
                      {"max_output_range_steps", r.clip.max_output_range()},
                      {"degenerate", r.clip.degenerate()}});
  }

  nlohmann::json json(const Model& model, const ScoreModeOptions& mode) const {
    int max_range = 0;
    const nlohmann::json outputs = outputs_json(&max_range);
    return {{"framing", to_string(mode.framing)},
            {"resize", to_string(mode.resize)},
            {"windows", windows_},
            {"clips", clips_},
            {"layers", layers_json(model)},
            {"outputs", outputs},
            {"max_output_range_steps", max_range},
            // Same rule as score's per-clip flag, over every probe window together.
            {"degenerate", windows_ >= kDegenerateMinWindows && max_range <= kDegenerateMaxSteps}};
  }

 private:
  struct Layer {
    std::int32_t act_min = -128, act_max = 127;
    std::int64_t values = 0, at_min = 0, at_max = 0;
    bool seen[256] = {};  // which int8 values occurred: few distinct values = a collapsed layer
  };

  nlohmann::json layers_json(const Model& model) const {
    nlohmann::json layers = nlohmann::json::array();
    for (int i = 0; i < model.num_operators(); ++i) {
      const Layer& l = layers_[i];
      const double n = l.values > 0 ? static_cast<double>(l.values) : 1.0;
      layers.push_back({{"index", i},
                        {"type", op_name(model.op(i).type)},
                        {"activation", activation_name(model.op(i).activation)},
                        {"act_min", l.act_min},
                        {"act_max", l.act_max},
                        {"at_min", static_cast<double>(l.at_min) / n},
                        {"at_max", static_cast<double>(l.at_max) / n},
                        {"distinct_values", std::count(std::begin(l.seen), std::end(l.seen), true)}});
    }
    return layers;
  }

  // Each output's range across windows; *max_range the widest, in quantization steps.
  nlohmann::json outputs_json(int* max_range) const {
    nlohmann::json outputs = nlohmann::json::array();
    for (int i = 0; i < kNumOutputs; ++i) {
      const int range = int(out_max_[i]) - int(out_min_[i]);
      *max_range = std::max(*max_range, range);
      const char* id = machine_id_of_output(i);
      outputs.push_back({{"index", i},
                         {"machine_id", id ? id : "-"},
                         {"min", out_min_[i]},
                         {"max", out_max_[i]},
                         {"range_steps", range}});
    }
    return outputs;
  }

  std::vector<Layer> layers_;
  std::int64_t windows_ = 0;
  std::int8_t out_min_[kNumOutputs] = {}, out_max_[kNumOutputs] = {};
  nlohmann::json clips_ = nlohmann::json::array();
};

nlohmann::json probe_json(const host::ModelFile& file, const InspectOptions& options) {
  Probe probe(file.model);
  host::ClipScorer scorer(file.model, options.mode.framing, options.mode.resize);
  scorer.interpreter().set_observer(&Probe::observe, &probe);
  for (const std::string& path : options.probe) {
    // The machine ID only affects the scores, which the probe does not report.
    probe.add_clip(path, scorer.score(load_clip(path, options.max_seconds).samples, 0));
  }
  return probe.json(file.model, options.mode);
}

std::string probe_layer_table(const nlohmann::json& p) {
  const host::TextTable table(host::TextFormat::kTable, {{"#", false, 3},
                                                         {"operator", true, 18},
                                                         {"act", true, 6},
                                                         {"clamp range", false, 11},
                                                         {"at bottom", false, 10},
                                                         {"at top", false, 10},
                                                         {"distinct", false, 9}});
  std::string text = table.header();
  for (const auto& l : p["layers"]) {
    text += table.row(
        {std::to_string(l["index"].get<int>()), l["type"].get<std::string>(), l["activation"].get<std::string>(),
         fmt::format("[{},{}]", l["act_min"].get<int>(), l["act_max"].get<int>()),
         fmt::format("{:.1f}%", 100.0 * l["at_min"].get<double>()),
         fmt::format("{:.1f}%", 100.0 * l["at_max"].get<double>()), std::to_string(l["distinct_values"].get<int>())});
  }
  return text;
}

std::string probe_output_table(const nlohmann::json& p) {
  const host::TextTable table(
      host::TextFormat::kTable,
      {{"output", false, 6}, {"id", false, 3}, {"min", false, 5}, {"max", false, 5}, {"steps", false, 6}});
  std::string text = table.header();
  for (const auto& o : p["outputs"]) {
    text += table.row({std::to_string(o["index"].get<int>()), o["machine_id"].get<std::string>(),
                       std::to_string(o["min"].get<int>()), std::to_string(o["max"].get<int>()),
                       std::to_string(o["range_steps"].get<int>())});
  }
  return text;
}

void print_probe(std::FILE* out, const nlohmann::json& p) {
  print_text(
      out, fmt::format("\nprobe: {} clip(s), {} windows ({} framing, {} resize)\n", p["clips"].size(),
                       p["windows"].get<long long>(), p["framing"].get<std::string>(), p["resize"].get<std::string>()));
  print_text(out, probe_layer_table(p));
  print_text(out, "\noutputs across windows (int8):\n" + probe_output_table(p));
  if (p["degenerate"].get<bool>()) {
    print_text(out, fmt::format("\nDEGENERATE: no output moves more than {} quantization steps across {} windows: the "
                                "model barely responds to its input; its scores mean little\n",
                                kDegenerateMaxSteps, p["windows"].get<long long>()));
  } else {
    print_text(out, fmt::format("\noutputs move by up to {} quantization steps across windows: the model responds to "
                                "its input\n",
                                p["max_output_range_steps"].get<int>()));
  }
}

}  // namespace

int run_inspect(const InspectOptions& options, std::FILE* out) {
  const auto file = host::load_default_model(options.model);
  nlohmann::json j = host::model_info_json(*file);
  if (!options.probe.empty()) j["probe"] = probe_json(*file, options);
  if (options.format == OutputFormat::kJson) {
    print_json(out, nlohmann::ordered_json(j));  // the keys in model_info_json's (sorted) order
    return 0;
  }
  print_tensors(out, j);
  print_text(out, "\n" + operator_table(j) + "\n");
  print_totals(out, j);
  if (!options.probe.empty()) print_probe(out, j["probe"]);
  return 0;
}

CLI::App* add_inspect_options(CLI::App& app, InspectOptions* options) {
  auto* cmd = app.add_subcommand("inspect", "Show a model's operators, shapes, quantization, MACs and memory");
  cmd->add_option(
      "MODEL", options->model,
      "Model file (.tflite) or small|medium|large (default: $MICRONET_AD_MODEL, else the embedded ad_medium)");
  add_json_flag(cmd, &options->format);
  cmd->add_option("--probe", options->probe,
                  "Run these audio files through the model and report saturation and output spread");
  add_mode_options(cmd, &options->mode);
  add_max_seconds_option(cmd, &options->max_seconds);
  return cmd;
}

void add_inspect_command(CLI::App& app, int* exit_code) {
  static InspectOptions options;
  add_inspect_options(app, &options)->callback([exit_code] { *exit_code = run_inspect(options, stdout); });
}

}  // namespace micronet_ad::cli
