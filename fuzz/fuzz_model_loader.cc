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

// Models beyond these are valid but too slow or too big to run on every fuzz input; they are
// still loaded and validated. ad_large (the largest seed) has 64.5 M MACs and a 380 KB arena.
constexpr std::int64_t kMaxMacsToRun = 80'000'000;
constexpr std::size_t kMaxMemoryToRun = std::size_t{64} << 20;

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
  if (model.total_macs() > kMaxMacsToRun || memory_bytes > kMaxMemoryToRun) return 0;
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
