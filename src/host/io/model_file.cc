#include "host/io/model_file.h"

#include <cstring>
#include <stdexcept>

#include "host/io/file.h"
#include "host/io/shared_data.h"

namespace micronet_ad::host {

std::string resolve_model_path(const std::string& name) {
  if (name == "small" || name == "medium" || name == "large") {
    return shared_dir() + "/models/ad_" + name + "_int8.tflite";
  }
  return name;
}

std::unique_ptr<ModelFile> load_model_bytes(const std::uint8_t* data, std::size_t size, const std::string& label) {
  auto file = std::make_unique<ModelFile>();
  file->path = label;
  file->storage.resize((size + 7) / 8);
  if (size > 0) std::memcpy(file->storage.data(), data, size);
  const Status s = Model::load(file->bytes(), size, &file->model);
  if (!s) throw std::runtime_error(label + ": " + s.message());
  return file;
}

std::unique_ptr<ModelFile> load_model_file(const std::string& name_or_path) {
  const std::string path = resolve_model_path(name_or_path);
  std::vector<std::uint8_t> bytes;
  try {
    bytes = read_file(path, kMaxModelFileBytes);
  } catch (const std::runtime_error& e) {
    // A bare word that is no file is most likely a mistyped name ("mediun"): say which there are.
    if (path == name_or_path && name_or_path.find_first_of("/.") == std::string::npos)
      throw std::runtime_error(std::string(e.what()) + " (model names: small, medium, large; else a .tflite path)");
    throw;
  }
  return load_model_bytes(bytes.data(), bytes.size(), path);
}

Engine::Engine(const Model& model, KernelSet kernels) : memory_(Interpreter::required_memory(model, kernels)) {
  const Status s = interpreter_.init(model, memory_.data(), memory_.size(), kernels);
  if (!s) throw std::runtime_error(s.message());
}

void Engine::invoke() {
  const Status s = interpreter_.invoke();
  if (!s) throw std::runtime_error(s.message());
}

}  // namespace micronet_ad::host
