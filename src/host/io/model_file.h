// Loading a .tflite file from disk into a validated Model, and running it with owned memory.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "micronet_ad/interpreter.h"
#include "micronet_ad/model.h"

namespace micronet_ad::host {

constexpr std::size_t kMaxModelFileBytes = std::size_t(64) << 20;

// A model file's bytes (8-byte aligned) and the validated Model viewing them.
struct ModelFile {
  std::string path;
  std::vector<std::uint64_t> storage;  // uint64 keeps the flatbuffer aligned
  Model model;
  const std::uint8_t* bytes() const { return reinterpret_cast<const std::uint8_t*>(storage.data()); }
};

// "small", "medium", "large" name the shared ML-zoo models; anything else is a path.
std::string resolve_model_path(const std::string& name_or_path);

// Reads and validates; throws std::runtime_error "<path>: <what is wrong>".
std::unique_ptr<ModelFile> load_model_file(const std::string& name_or_path);
// Same, from bytes already in memory (copied); `label` names them in errors.
std::unique_ptr<ModelFile> load_model_bytes(const std::uint8_t* data, std::size_t size, const std::string& label);

// An Interpreter with its memory, for host code.
class Engine {
 public:
  explicit Engine(const Model& model, KernelSet kernels = KernelSet::kAuto);
  std::int8_t* input() { return interpreter_.input(); }
  const std::int8_t* output() const { return interpreter_.output(); }
  std::size_t input_bytes() const { return interpreter_.input_bytes(); }
  std::size_t output_bytes() const { return interpreter_.output_bytes(); }
  void invoke();  // throws std::runtime_error on failure
  Interpreter& interpreter() { return interpreter_; }
  std::size_t memory_bytes() const { return memory_.size(); }

 private:
  std::vector<std::uint8_t> memory_;
  Interpreter interpreter_;
};

}  // namespace micronet_ad::host
