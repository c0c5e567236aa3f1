// micronet-ad: runs a validated Model in caller-provided memory.
//
// init() carves the memory into the activation arena and per-operator data (requantization
// multipliers, activation ranges); invoke() then runs every operator with no allocation.
#pragma once

#include <cstddef>
#include <cstdint>

#include "micronet_ad/model.h"
#include "micronet_ad/status.h"

namespace micronet_ad {

// Called after each operator with its output tensor (for layer-by-layer checks and health probes).
using OpObserver = void (*)(void* context, int op_index, const TensorInfo& output,
                            const std::int8_t* data);

class Interpreter {
 public:
  // Bytes of memory init() needs for `model` (arena plus per-operator data, with alignment).
  static std::size_t required_memory(const Model& model);

  // `memory` must hold required_memory(model) bytes and outlive the Interpreter; so must `model`.
  Status init(const Model& model, void* memory, std::size_t memory_bytes);

  std::int8_t* input();  // input tensor bytes (model.tensor(model.input_tensor()).bytes)
  const std::int8_t* output() const;
  std::size_t input_bytes() const;
  std::size_t output_bytes() const;

  Status invoke();
  void set_observer(OpObserver observer, void* context) {
    observer_ = observer;
    observer_context_ = context;
  }

  struct PreparedOp {
    std::int32_t input_offset = 0;   // −input zero point
    std::int32_t output_offset = 0;  // output zero point
    std::int32_t act_min = -128, act_max = 127;
    const std::int32_t* multipliers = nullptr;  // per output channel
    const std::int32_t* shifts = nullptr;
    int pad_top = 0, pad_left = 0;
  };

 private:
  std::int8_t* tensor_data(int tensor_index) const;

  const Model* model_ = nullptr;
  std::uint8_t* arena_ = nullptr;
  PreparedOp prepared_[kMaxOperators];
  OpObserver observer_ = nullptr;
  void* observer_context_ = nullptr;
};

}  // namespace micronet_ad
