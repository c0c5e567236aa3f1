// micronet-ad inspect [MODEL] [--probe AUDIO...]: what the model is, what it costs, how much memory it
// needs and, with --probe, whether it actually responds to real audio.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "common_options.h"
#include "host/audio/audio_file.h"
#include "host/detect/clip_scorer.h"
#include "host/io/default_model.h"
#include "host/io/model_info.h"
#include "host/io/model_file.h"
#include "micronet_ad/detector.h"
#include "micronet_ad/interpreter.h"

namespace micronet_ad::cli {
namespace {

// `band_fusion_arena`: the arena with InterpreterOptions::band_fusion (row bands go below the bound).
void print_table(const nlohmann::json& j, std::size_t band_fusion_arena) {
  fmt::print("{}  ({} bytes, schema v{})\n", j["path"].get<std::string>(), j["bytes"].get<std::size_t>(),
             j["schema_version"].get<unsigned>());
  auto q = [](const nlohmann::json& qj) {
    return qj.contains("scale") ? fmt::format("scale {:.9g} zp {}", qj["scale"].get<double>(), qj["zero_point"].get<int>())
                                : std::string("-");
  };
  fmt::print("input  tensor {} {} int8, {}\n", j["input"]["tensor"].get<int>(), host::dims_string(j["input"]["shape"]),
             q(j["input"]["quantization"]));
  fmt::print("output tensor {} {} int8, {}\n\n", j["output"]["tensor"].get<int>(), host::dims_string(j["output"]["shape"]),
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
               o["type"].get<std::string>(), host::dims_string(o["input"]), host::dims_string(o["output"]),
               o.value("kernel", "-"), o.value("stride", "-"), o.value("padding", "-"), o.value("activation", "-"),
               o["macs"].get<long long>(), o["parameter_bytes"].get<std::size_t>(), ws);
  }
  fmt::print("\ntotal MACs       {}\n", j["total_macs"].get<long long>());
  fmt::print("parameters       {} ({} bytes, shared tensors counted once)\n", j["parameters"].get<std::size_t>(),
             j["parameter_bytes"].get<std::size_t>());
  fmt::print("arena bytes      {} (layer-at-a-time lower bound {}); with band fusion {}\n",
             j["arena_bytes"].get<std::size_t>(), j["arena_lower_bound_bytes"].get<std::size_t>(), band_fusion_arena);
  fmt::print("interpreter memory {} bytes with reference kernels (arena + per-channel requantization data),\n"
             "                 {} bytes with this CPU's optimized kernels (+ packed weight copies)\n",
             j["interpreter_memory_bytes"].get<std::size_t>(), j["interpreter_memory_bytes_optimized"].get<std::size_t>());
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
    nlohmann::json layers = nlohmann::json::array(), outputs = nlohmann::json::array();
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
    int max_range = 0;
    for (int i = 0; i < kNumOutputs; ++i) {
      const int range = int(out_max_[i]) - int(out_min_[i]);
      max_range = std::max(max_range, range);
      const char* id = machine_id_of_output(i);
      outputs.push_back({{"index", i}, {"machine_id", id ? id : "-"}, {"min", out_min_[i]}, {"max", out_max_[i]},
                         {"range_steps", range}});
    }
    return {{"framing", to_string(mode.framing)},
            {"resize", to_string(mode.resize)},
            {"windows", windows_},
            {"clips", clips_},
            {"layers", layers},
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
  std::vector<Layer> layers_;
  std::int64_t windows_ = 0;
  std::int8_t out_min_[kNumOutputs] = {}, out_max_[kNumOutputs] = {};
  nlohmann::json clips_ = nlohmann::json::array();
};

nlohmann::json run_probe(const host::ModelFile& file, const std::vector<std::string>& paths, const ScoreModeOptions& mode,
                         double max_seconds) {
  Probe probe(file.model);
  host::ClipScorer scorer(file.model, mode.framing, mode.resize);
  scorer.interpreter().set_observer(&Probe::observe, &probe);
  host::AudioLoadOptions load;
  load.max_seconds = max_seconds;
  for (const std::string& path : paths) {
    const host::Audio audio = host::load_audio(path, load);
    probe.add_clip(path, scorer.score(audio.samples, 0));  // machine ID only affects scores, not reported here
  }
  return probe.json(file.model, mode);
}

void print_probe(const nlohmann::json& p) {
  fmt::print("\nprobe: {} clip(s), {} windows ({} framing, {} resize)\n", p["clips"].size(), p["windows"].get<long long>(),
             p["framing"].get<std::string>(), p["resize"].get<std::string>());
  fmt::print("{:>3}  {:<18} {:<6} {:>11} {:>10} {:>10} {:>9}\n", "#", "operator", "act", "clamp range", "at bottom",
             "at top", "distinct");
  for (const auto& l : p["layers"]) {
    fmt::print("{:>3}  {:<18} {:<6} {:>11} {:>9.1f}% {:>9.1f}% {:>9}\n", l["index"].get<int>(),
               l["type"].get<std::string>(), l["activation"].get<std::string>(),
               fmt::format("[{},{}]", l["act_min"].get<int>(), l["act_max"].get<int>()), 100.0 * l["at_min"].get<double>(),
               100.0 * l["at_max"].get<double>(), l["distinct_values"].get<int>());
  }
  fmt::print("\noutputs across windows (int8):\n{:>6} {:>3} {:>5} {:>5} {:>6}\n", "output", "id", "min", "max", "steps");
  for (const auto& o : p["outputs"]) {
    fmt::print("{:>6} {:>3} {:>5} {:>5} {:>6}\n", o["index"].get<int>(), o["machine_id"].get<std::string>(),
               o["min"].get<int>(), o["max"].get<int>(), o["range_steps"].get<int>());
  }
  if (p["degenerate"].get<bool>()) {
    fmt::print("\nDEGENERATE: no output moves more than {} quantization steps across {} windows: the model barely "
               "responds to its input; its scores mean little\n",
               kDegenerateMaxSteps, p["windows"].get<long long>());
  } else {
    fmt::print("\noutputs move by up to {} quantization steps across windows: the model responds to its input\n",
               p["max_output_range_steps"].get<int>());
  }
}

}  // namespace

void add_inspect_command(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("inspect", "Show a model's operators, shapes, quantization, MACs and memory");
  static std::string model;
  static bool json = false;
  cmd->add_option("MODEL", model,
                  "Model file (.tflite) or small|medium|large (default: $MICRONET_AD_MODEL, else the embedded ad_medium)");
  cmd->add_flag("--json", json, "Print JSON instead of a table");
  static std::vector<std::string> probe;
  static ScoreModeOptions mode;
  static double max_seconds = kDefaultMaxSeconds;
  cmd->add_option("--probe", probe, "Run these audio files through the model and report saturation and output spread");
  add_mode_options(cmd, &mode);
  add_max_seconds_option(cmd, &max_seconds);
  cmd->callback([exit_code] {
    const auto file = host::load_default_model(model);
    nlohmann::json j = host::model_info_json(*file);
    if (!probe.empty()) j["probe"] = run_probe(*file, probe, mode, max_seconds);
    if (json) {
      fmt::print("{}\n", j.dump(2));
    } else {
      print_table(j, Interpreter::arena_bytes(file->model, true));
      if (!probe.empty()) print_probe(j["probe"]);
    }
    *exit_code = 0;
  });
}

}  // namespace micronet_ad::cli
