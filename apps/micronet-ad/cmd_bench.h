// micronet-ad bench [--model M] [--threads N] [--kernels K] [--json] [--iterations K]
//                   [--clip WAV | --no-clip] [--clip-runs R] [--scaling-clips C]:
// how fast the model runs here (docs/kernels.md, "Measuring").
#pragma once

#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "micronet_ad/interpreter.h"
#include "output.h"

namespace micronet_ad::cli {

struct BenchOptions {
  std::string model;                           // --model: file or small|medium|large; "" for the default
  int threads = 1;                             // --threads: engines running concurrently, one per thread
  KernelSet kernels = KernelSet::kAuto;        // --kernels
  int iterations = 0;                          // --iterations: timed inferences per thread; 0: about 2 s worth
  OutputFormat format = OutputFormat::kTable;  // --json: kJson
  std::string clip;                            // --clip: the end-to-end clip; "" for the shared DCASE slider clip
  bool no_clip = false;                        // --no-clip: skip the end-to-end and scaling runs
  int clip_runs = 20;                          // --clip-runs: timed end-to-end runs of the clip
  int scaling_clips = 24;                      // --scaling-clips: clips per batch in the scaling run
};

// Measures and prints to `out` (a summary and a per-operator table, or one JSON document):
// per-inference median/p90 latency, per-operator times, achieved MAC/s against this core's peak
// with the level's multiply-accumulate instruction (measured in the same run: a constant from
// another machine once gave "124 % of peak"), and memory. With threads > 1, that many engines run
// concurrently and the aggregate throughput is reported too. Unless no_clip, then a real clip end
// to end (decode, front end and every window's inference, through ClipScorer) with a per-stage
// breakdown, and batch scaling: the same clips scored by one worker and by two (or `threads`),
// with the CPU time and page faults per clip of both runs (equal CPU time = no contention).
// Returns 0. Throws std::runtime_error when the model or the clip cannot be read.
int run_bench(const BenchOptions& options, std::FILE* out);

// The `bench` subcommand with its flags bound to *options.
CLI::App* add_bench_options(CLI::App& app, BenchOptions* options);

}  // namespace micronet_ad::cli
