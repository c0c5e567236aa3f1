// micronet-ad infer [--model M] --input IN --output OUT: the model on int8 input tensors.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "micronet_ad/interpreter.h"

namespace micronet_ad::cli {

struct InferOptions {
  std::string model;   // --model: file or small|medium|large; "" for the default
  std::string input;   // --input: .npy int8 [N,H,W,C], [1,H,W,C], [H,W] or [H,W,C], else raw N x H·W·C bytes
  std::string output;  // --output: .npy int8 [N,outputs], else raw N x outputs bytes
  KernelSet kernels = KernelSet::kAuto;
};

// Runs the model on every input tensor (one thread) and writes the outputs, in order, to
// options.output; the result is that file, and a one-line summary (count, median latency,
// kernels) goes to stderr. Returns 0. Throws std::runtime_error when the model or the input
// cannot be read, the input does not fit the model, or the output cannot be written.
int run_infer(const InferOptions& options);

// The `infer` subcommand with its flags bound to *options.
CLI::App* add_infer_options(CLI::App& app, InferOptions* options);

}  // namespace micronet_ad::cli
