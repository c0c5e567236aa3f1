// The AArch64 levels against TensorFlow Lite Micro on whole models: all 256 golden inputs of
// ad_small, ad_medium and ad_large through each requested kernel level, every output byte-equal
// to ../shared/golden/engine/ad_<model>_outputs_256x8.i8. Even inputs run layer by layer, odd
// ones with band fusion (the kernels' row bands), each through its own interpreter.
// Built by scripts/aarch64.sh (static, run under qemu-aarch64); plain C++ and stdio, no gtest.
//   golden SHARED_DIR [LEVEL...]          default: every compiled level with kernels this CPU runs
//   golden SHARED_DIR --count MODEL LEVEL N
//       N inferences only (for instruction counts: run it with N and 0 and take the difference),
//       still checked against the golden outputs.
// Exit 0 only when every output of every run is byte-equal and every requested level ran.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "kernels/level.h"
#include "micronet_ad/interpreter.h"
#include "micronet_ad/model.h"

namespace {

using micronet_ad::Interpreter;
using micronet_ad::InterpreterOptions;
using micronet_ad::KernelSet;
using micronet_ad::Model;
using micronet_ad::Status;

constexpr int kInputs = 256, kInputBytes = 1024, kOutputBytes = 8;

bool read_file(const std::string& path, std::vector<std::uint8_t>* out) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  out->clear();
  std::uint8_t buf[65536];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out->insert(out->end(), buf, buf + n);
  std::fclose(f);
  return true;
}

struct Golden {
  std::vector<std::uint8_t> inputs, outputs, model_bytes;
  std::unique_ptr<Model> model{new Model()};
};

bool load(const std::string& shared, const std::string& name, Golden* g) {
  const std::string model_path = shared + "/models/ad_" + name + "_int8.tflite";
  const std::string out_path = shared + "/golden/engine/ad_" + name + "_outputs_256x8.i8";
  if (!read_file(model_path, &g->model_bytes) || !read_file(shared + "/golden/engine/inputs_256x1024.i8", &g->inputs) ||
      !read_file(out_path, &g->outputs)) {
    std::printf("FAIL: cannot read %s or its golden data under %s\n", model_path.c_str(), shared.c_str());
    return false;
  }
  if (g->inputs.size() != static_cast<std::size_t>(kInputs) * kInputBytes ||
      g->outputs.size() != static_cast<std::size_t>(kInputs) * kOutputBytes) {
    std::printf("FAIL: golden files of ad_%s have the wrong size\n", name.c_str());
    return false;
  }
  const Status status = Model::load(g->model_bytes.data(), g->model_bytes.size(), g->model.get());
  if (!status.ok()) {
    std::printf("FAIL: Model::load(%s): %s\n", model_path.c_str(), status.message());
    return false;
  }
  return true;
}

struct Runner {
  std::vector<std::uint8_t> memory;
  Interpreter interpreter;
  bool init(const Model& model, KernelSet set, bool band_fusion) {
    InterpreterOptions options;
    options.kernels = set;
    options.band_fusion = band_fusion;
    memory.assign(Interpreter::required_memory(model, options), 0);
    const Status status = interpreter.init(model, memory.data(), memory.size(), options);
    if (!status.ok())
      std::printf("FAIL: Interpreter::init (%s): %s\n", micronet_ad::kernel_set_name(set), status.message());
    return status.ok();
  }
  // Runs golden input i; true when the output equals the golden one.
  bool run(const Golden& g, int i) {
    std::memcpy(interpreter.input(), g.inputs.data() + static_cast<std::size_t>(i) * kInputBytes, kInputBytes);
    if (!interpreter.invoke().ok()) return false;
    return std::memcmp(interpreter.output(), g.outputs.data() + static_cast<std::size_t>(i) * kOutputBytes,
                       kOutputBytes) == 0;
  }
};

// Inputs [0, count) of one model through one level; returns the number that differ.
int check(const Golden& g, const char* model, KernelSet set, int count) {
  Runner plain, fused;
  if (!plain.init(*g.model, set, false) || !fused.init(*g.model, set, true)) return count > 0 ? count : 1;
  int differ = 0;
  for (int i = 0; i < count; ++i) {
    if ((i % 2 == 0 ? plain : fused).run(g, i)) continue;
    if (++differ <= 5)
      std::printf("  ad_%s input %d: output differs from TFLite Micro (%s)\n", model, i,
                  micronet_ad::kernel_set_name(set));
  }
  return differ;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::printf("usage: %s SHARED_DIR [LEVEL...] | SHARED_DIR --count MODEL LEVEL N\n", argv[0]);
    return 2;
  }
  const std::string shared = argv[1];
  if (argc == 6 && std::strcmp(argv[2], "--count") == 0) {
    KernelSet set;
    if (!micronet_ad::parse_kernel_set(argv[4], &set)) return 2;
    Golden g;
    if (!load(shared, argv[3], &g)) return 1;
    Runner r;
    if (!r.init(*g.model, set, false)) return 1;
    const int n = std::atoi(argv[5]);
    int differ = 0;
    for (int i = 0; i < n; ++i) differ += r.run(g, i % kInputs) ? 0 : 1;
    std::printf("ad_%s %s: %d inferences, %d differ; interpreter memory %zu B\n", argv[3], argv[4], n, differ,
                r.memory.size());
    return differ == 0 ? 0 : 1;
  }
  std::vector<KernelSet> sets;
  for (int a = 2; a < argc; ++a) {
    KernelSet set;
    if (!micronet_ad::parse_kernel_set(argv[a], &set)) {
      std::printf("FAIL: unknown kernel level %s\n", argv[a]);
      return 2;
    }
    if (!Interpreter::kernel_set_supported(set)) {
      std::printf("FAIL: level %s is not in this build or CPU\n", argv[a]);
      return 1;
    }
    sets.push_back(set);
  }
  if (sets.empty()) {
    int count = 0;
    const micronet_ad::kernels::KernelLevel* const* levels = micronet_ad::kernels::compiled_levels(&count);
    for (int l = 0; l < count; ++l)
      if (levels[l]->conv_count + levels[l]->depthwise_count > 0 && levels[l]->cpu_supports())
        sets.push_back(levels[l]->set);
  }
  if (sets.empty()) {
    std::printf("FAIL: no kernel level to check\n");
    return 1;
  }
  int failed = 0, runs = 0;
  for (const char* model : {"small", "medium", "large"}) {
    Golden g;
    if (!load(shared, model, &g)) return 1;
    for (KernelSet set : sets) {
      const int differ = check(g, model, set, kInputs);
      std::printf("ad_%-6s %-12s: %d golden inputs, %d differ\n", model, micronet_ad::kernel_set_name(set), kInputs,
                  differ);
      ++runs;
      if (differ > 0) ++failed;
    }
  }
  if (failed > 0) {
    std::printf("FAIL: %d of %d model/level runs differ from TFLite Micro\n", failed, runs);
    return 1;
  }
  std::printf("PASS: %d model/level runs, every output byte-equal to TFLite Micro\n", runs);
  return 0;
}
