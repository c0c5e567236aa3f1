// IN and OUT are .npy (int8) or raw int8 bytes, chosen by the file name.
#include "cmd_infer.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <vector>

#include <fmt/core.h>

#include "commands.h"
#include "common_options.h"
#include "host/io/default_model.h"
#include "host/io/file.h"
#include "host/io/model_file.h"
#include "host/io/npy.h"
#include "timing.h"

namespace micronet_ad::cli {
namespace {

bool is_npy(const std::string& path) { return path.size() >= 4 && path.compare(path.size() - 4, 4, ".npy") == 0; }

// An npy file's input tensors: shape [N,H,W,C] matching the model's `in` [1,H,W,C], or [H,W,C],
// or [H,W] for a one-channel input.
std::vector<std::int8_t> read_npy_inputs(const std::string& path, const Shape& in) {
  const host::NpyArray a = host::read_npy(path);
  if (a.dtype != "i1") throw std::runtime_error(path + ": npy dtype is " + a.dtype + ", expected int8 (i1)");
  const std::vector<std::int64_t> sample(in.dims + 1, in.dims + in.rank);  // [H,W,C]
  bool ok = a.shape == sample;
  if (a.shape.size() == sample.size() + 1) ok = std::equal(sample.begin(), sample.end(), a.shape.begin() + 1);
  if (in.rank == 4 && in.dims[3] == 1 && a.shape == std::vector<std::int64_t>{in.dims[1], in.dims[2]}) ok = true;
  if (!ok || a.data.empty()) {
    throw std::runtime_error(fmt::format("{}: npy shape is {}, expected [N,{},{},{}], [1,{},{},{}] or [{},{}]", path,
                                         host::shape_string(a.shape), in.dims[1], in.dims[2], in.dims[3], in.dims[1],
                                         in.dims[2], in.dims[3], in.dims[1], in.dims[2]));
  }
  return std::vector<std::int8_t>(a.data.begin(), a.data.end());
}

// A raw file's input tensors: a whole number of `per_input` bytes.
std::vector<std::int8_t> read_raw_inputs(const std::string& path, std::size_t per_input) {
  const std::vector<std::uint8_t> raw = host::read_file(path);
  if (raw.empty())
    throw std::runtime_error(fmt::format("{}: empty, expected {}-byte int8 input tensors", path, per_input));
  if (raw.size() % per_input != 0) {
    throw std::runtime_error(
        fmt::format("{}: {} bytes is not a whole number of {}-byte int8 input tensors", path, raw.size(), per_input));
  }
  return std::vector<std::int8_t>(raw.begin(), raw.end());
}

// Every input's outputs, one after the other, and each inference's microseconds.
struct Inferences {
  std::vector<std::int8_t> outputs;
  std::vector<double> micros;
};

Inferences infer_each(host::Engine& engine, const std::vector<std::int8_t>& inputs) {
  const std::size_t in_bytes = engine.input_bytes(), out_bytes = engine.output_bytes();
  const std::size_t n = inputs.size() / in_bytes;
  Inferences r;
  r.outputs.resize(n * out_bytes);
  r.micros.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const Clock::time_point start = Clock::now();
    std::copy_n(inputs.data() + i * in_bytes, in_bytes, engine.input());
    engine.invoke();
    std::copy_n(engine.output(), out_bytes, r.outputs.data() + i * out_bytes);
    r.micros[i] = micros_since(start);
  }
  return r;
}

void write_outputs(const std::string& path, const std::vector<std::int8_t>& outputs, std::size_t per_output) {
  if (is_npy(path)) {
    const auto n = static_cast<std::int64_t>(outputs.size() / per_output);
    host::write_npy(path, "i1", {n, static_cast<std::int64_t>(per_output)}, outputs.data(), outputs.size());
  } else {
    host::write_file(path, outputs.data(), outputs.size());
  }
}

}  // namespace

int run_infer(const InferOptions& options) {
  const auto file = host::load_default_model(options.model);
  host::Engine engine(file->model, options.kernels);
  const Shape& in = file->model.tensor(file->model.input_tensor()).shape;
  const std::vector<std::int8_t> inputs =
      is_npy(options.input) ? read_npy_inputs(options.input, in) : read_raw_inputs(options.input, engine.input_bytes());
  const Inferences r = infer_each(engine, inputs);
  write_outputs(options.output, r.outputs, engine.output_bytes());
  const std::size_t n = r.micros.size();
  std::fprintf(stderr, "%zu inference%s -> %s (median %.1f us per inference, one thread, %s kernels)\n", n,
               n == 1 ? "" : "s", options.output.c_str(), percentile(r.micros, 0.5),
               kernel_set_name(engine.interpreter().kernel_set()));
  return 0;
}

CLI::App* add_infer_options(CLI::App& app, InferOptions* options) {
  auto* cmd = app.add_subcommand("infer", "Run the model on int8 input tensors (.npy or raw bytes)");
  add_model_option(cmd, &options->model);
  cmd->add_option("--input", options->input,
                  "Input tensors: .npy int8 [N,32,32,1], [1,32,32,1], [32,32], or raw N x 1024 bytes")
      ->required();
  cmd->add_option("--output", options->output, "Output file: .npy int8 [N,8], or raw N x 8 bytes")->required();
  add_kernels_option(cmd, &options->kernels);
  return cmd;
}

void add_infer_command(CLI::App& app, int* exit_code) {
  static InferOptions options;
  add_infer_options(app, &options)->callback([exit_code] { *exit_code = run_infer(options); });
}

}  // namespace micronet_ad::cli
