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

// Which kernels run the operators. kReference: the portable reference kernels (the truth).
// kAuto: the fastest set the CPU supports (chosen at init from CPUID; the reference off x86-64).
// kAvx2 / kAvx512Vnni: force a level; init fails if the CPU or the build lacks it. Every set
// produces the same bytes.
enum class KernelSet : std::uint8_t { kReference, kAuto, kAvx2, kAvx512Vnni };
const char* kernel_set_name(KernelSet set);  // "reference", "auto", "avx2", "avx512vnni"
// Parses those names; returns false for an unknown name.
bool parse_kernel_set(const char* name, KernelSet* set);

class Interpreter {
 public:
  // Bytes of memory init() needs for `model` (arena plus per-operator data — multipliers and,
  // for optimized kernels, packed weights and scratch — with alignment).
  static std::size_t required_memory(const Model& model, KernelSet kernels = KernelSet::kAuto);

  // `memory` must hold required_memory(model, kernels) bytes and outlive the Interpreter; so must
  // `model`. Optimized kernels pack their weights here, once.
  Status init(const Model& model, void* memory, std::size_t memory_bytes, KernelSet kernels = KernelSet::kAuto);

  // The set init() resolved kAuto to (kReference, kAvx2 or kAvx512Vnni).
  KernelSet kernel_set() const { return kernel_set_; }
  // Whether this build and CPU can run `set` (kReference and kAuto: always).
  static bool kernel_set_supported(KernelSet set);

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
    // Optimized path (kernel_set() != kReference); kRef ops run the reference kernel.
    enum class Path : std::uint8_t { kRef, kGemm, kIm2colGemm, kDepthwise } path = Path::kRef;
    const std::int8_t* packed = nullptr;  // GEMM weights
    const std::int32_t* corr = nullptr;   // GEMM per-channel bias + offset correction
    const void* dw_packed = nullptr;      // depthwise weights and bias in the level's layout
  };

 private:
  std::int8_t* tensor_data(int tensor_index) const;
  const Model* model_ = nullptr;
  std::uint8_t* arena_ = nullptr;
  KernelSet kernel_set_ = KernelSet::kReference;
  std::int8_t* im2col_ = nullptr;  // scratch shared by the im2col convolutions
  void* gemm_scratch_ = nullptr;   // scratch shared by the GEMMs (AVX2 int16 rows)
  PreparedOp prepared_[kMaxOperators];
  OpObserver observer_ = nullptr;
  void* observer_context_ = nullptr;
};

}  // namespace micronet_ad
