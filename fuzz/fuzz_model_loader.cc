// libFuzzer target: Model::load on arbitrary bytes, and for every model that loads, one
// Interpreter::init + invoke. Anything the loader accepts must run without a sanitizer report.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "micronet_ad/interpreter.h"
#include "micronet_ad/model.h"

namespace {

// Models beyond these limits are loaded and validated but not run: one invoke of the real
// models (19–65 M MACs) takes a sizeable fraction of a second under the sanitizers, which would
// hold the fuzzer to a few executions per second. The small seeds (make_fuzz_seeds: ~3 k MACs)
// and their mutants do run. MICRONET_AD_FUZZ_MAX_MACS raises the limit (e.g. 100000000 to run
// the real models too); the unit test core_model_test runs mutated real models.
constexpr std::int64_t kDefaultMaxMacsToRun = 2'000'000;
constexpr std::size_t kMaxMemoryToRun = std::size_t{64} << 20;

std::int64_t max_macs_to_run() {
  static const std::int64_t limit = [] {
    const char* env = std::getenv("MICRONET_AD_FUZZ_MAX_MACS");
    return env != nullptr ? std::atoll(env) : kDefaultMaxMacsToRun;
  }();
  return limit;
}

void check(bool condition) {
  if (!condition) std::abort();  // an invariant the loader promises does not hold
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace micronet_ad;
  // An exact-size copy: operator new[] returns 16-byte-aligned memory (flatbuffers need 8), and
  // AddressSanitizer flags any read even one byte past `size`.
  std::unique_ptr<std::uint8_t[]> bytes(new std::uint8_t[size > 0 ? size : 1]);
  if (size > 0) std::memcpy(bytes.get(), data, size);

  static Model model;  // ~12 KB: keep it off the stack
  const Status status = Model::load(bytes.get(), size, &model);
  if (!status) {
    check(status.message() != nullptr && status.message()[0] != '\0');
    return 0;
  }
  check(model.num_operators() > 0 && model.num_tensors() > 0);
  check(model.input_tensor() >= 0 && model.input_tensor() < model.num_tensors());
  check(model.output_tensor() >= 0 && model.output_tensor() < model.num_tensors());
  check(model.arena_bytes() >= model.arena_lower_bound());

  const std::size_t memory_bytes = Interpreter::required_memory(model);
  if (model.total_macs() > max_macs_to_run() || memory_bytes > kMaxMemoryToRun) return 0;
  std::vector<std::uint8_t> memory(memory_bytes);
  static Interpreter interpreter;
  const Status init = interpreter.init(model, memory.data(), memory.size());
  check(static_cast<bool>(init));
  check(interpreter.input() != nullptr && interpreter.output() != nullptr);
  // A fixed, non-constant input.
  std::int8_t* input = interpreter.input();
  for (std::size_t i = 0; i < interpreter.input_bytes(); ++i) input[i] = static_cast<std::int8_t>(i * 37 + 11);
  check(static_cast<bool>(interpreter.invoke()));
  return 0;
}
