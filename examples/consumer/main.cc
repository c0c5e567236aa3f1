// Loads a model, runs one all-zero-point input, prints the arena size and the 8 logits.
// Uses only the installed public headers: no heap in the engine, memory comes from here.
#include <cstdio>
#include <vector>

#include <micronet_ad/interpreter.h>
#include <micronet_ad/model.h>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: consumer MODEL.tflite\n");
    return 2;
  }
  std::FILE* f = std::fopen(argv[1], "rb");
  if (!f) {
    std::fprintf(stderr, "%s: cannot open\n", argv[1]);
    return 1;
  }
  std::vector<unsigned long long> storage(1 << 17);  // 1 MiB, 8-byte aligned
  const std::size_t size = std::fread(storage.data(), 1, storage.size() * 8, f);
  std::fclose(f);
  micronet_ad::Model model;
  micronet_ad::Status s =
      micronet_ad::Model::load(reinterpret_cast<const unsigned char*>(storage.data()), size, &model);
  if (!s) {
    std::fprintf(stderr, "%s: %s\n", argv[1], s.message());
    return 1;
  }
  std::vector<unsigned char> memory(micronet_ad::Interpreter::required_memory(model));
  micronet_ad::Interpreter interpreter;
  s = interpreter.init(model, memory.data(), memory.size());
  if (s) {
    const micronet_ad::TensorInfo in = model.tensor(model.input_tensor());
    for (std::size_t i = 0; i < interpreter.input_bytes(); ++i)
      interpreter.input()[i] = static_cast<signed char>(in.zero_point);
    s = interpreter.invoke();
  }
  if (!s) {
    std::fprintf(stderr, "%s\n", s.message());
    return 1;
  }
  std::printf("arena %zu bytes; logits", model.arena_bytes());
  for (std::size_t i = 0; i < interpreter.output_bytes(); ++i) std::printf(" %d", interpreter.output()[i]);
  std::printf("\n");
  return 0;
}
