// micronet-ad infer [--model M] --input IN --output OUT: run the model on int8 input tensors.
// IN/OUT are .npy (int8) or raw int8 bytes, chosen by the file name.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "commands.h"
#include "common_options.h"
#include "host/io/default_model.h"
#include "host/io/file.h"
#include "host/io/model_file.h"
#include "host/io/npy.h"

namespace micronet_ad::cli {
namespace {

bool is_npy(const std::string& path) { return path.size() >= 4 && path.compare(path.size() - 4, 4, ".npy") == 0; }

// The input tensors of an npy file: shape [N,H,W,C] matching the model, or [H,W] / [H,W,C].
std::vector<std::int8_t> read_inputs(const std::string& path, const Shape& in, std::size_t per_input) {
  std::vector<std::int8_t> data;
  if (is_npy(path)) {
    const host::NpyArray a = host::read_npy(path);
    if (a.dtype != "i1") throw std::runtime_error(path + ": npy dtype is " + a.dtype + ", expected int8 (i1)");
    const std::vector<std::int64_t> sample(in.dims + 1, in.dims + in.rank);  // [H,W,C]
    bool ok = false;
    if (a.shape.size() == sample.size() + 1) ok = std::equal(sample.begin(), sample.end(), a.shape.begin() + 1);
    if (a.shape == sample) ok = true;
    if (in.rank == 4 && in.dims[3] == 1 && a.shape == std::vector<std::int64_t>{in.dims[1], in.dims[2]}) ok = true;
    if (!ok || a.data.empty()) {
      throw std::runtime_error(fmt::format("{}: npy shape is {}, expected [N,{},{},{}], [1,{},{},{}] or [{},{}]", path,
                                           host::shape_string(a.shape), in.dims[1], in.dims[2], in.dims[3], in.dims[1],
                                           in.dims[2], in.dims[3], in.dims[1], in.dims[2]));
    }
    data.assign(a.data.begin(), a.data.end());
  } else {
    const std::vector<std::uint8_t> raw = host::read_file(path);
    if (raw.size() % per_input != 0) {
      throw std::runtime_error(fmt::format("{}: {} bytes is not a whole number of {}-byte int8 input tensors", path,
                                           raw.size(), per_input));
    }
    data.assign(raw.begin(), raw.end());
  }
  return data;
}

}  // namespace

void add_infer_command(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("infer", "Run the model on int8 input tensors (.npy or raw bytes)");
  static std::string model, input, output;
  static KernelSet kernels = KernelSet::kAuto;
  add_model_option(cmd, &model);
  cmd->add_option("--input", input, "Input tensors: .npy int8 [N,32,32,1], [1,32,32,1], [32,32], or raw N x 1024 bytes")->required();
  cmd->add_option("--output", output, "Output file: .npy int8 [N,8], or raw N x 8 bytes")->required();
  add_kernels_option(cmd, &kernels);
  cmd->callback([exit_code] {
    const auto file = host::load_default_model(model);
    host::Engine engine(file->model, kernels);
    const std::size_t in_bytes = engine.input_bytes(), out_bytes = engine.output_bytes();
    const std::vector<std::int8_t> inputs = read_inputs(input, file->model.tensor(file->model.input_tensor()).shape, in_bytes);
    const std::size_t n = inputs.size() / in_bytes;
    std::vector<std::int8_t> outputs(n * out_bytes);
    std::vector<double> micros(n);
    for (std::size_t i = 0; i < n; ++i) {
      const auto start = std::chrono::steady_clock::now();
      std::copy_n(inputs.data() + i * in_bytes, in_bytes, engine.input());
      engine.invoke();
      std::copy_n(engine.output(), out_bytes, outputs.data() + i * out_bytes);
      micros[i] = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
    }
    if (is_npy(output)) {
      host::write_npy(output, "i1", {static_cast<std::int64_t>(n), static_cast<std::int64_t>(out_bytes)}, outputs.data(),
                      outputs.size());
    } else {
      host::write_file(output, outputs.data(), outputs.size());
    }
    std::nth_element(micros.begin(), micros.begin() + micros.size() / 2, micros.end());
    std::fprintf(stderr, "%zu inference%s -> %s (median %.1f us per inference, one thread, %s kernels)\n", n,
                 n == 1 ? "" : "s", output.c_str(), micros[micros.size() / 2],
                 kernel_set_name(engine.interpreter().kernel_set()));
    *exit_code = 0;
  });
}

}  // namespace micronet_ad::cli
