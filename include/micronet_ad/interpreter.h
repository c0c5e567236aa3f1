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
namespace kernels {
struct PreparedOp;
}

// Called after each operator with its output tensor (for layer-by-layer checks and health probes).
using OpObserver = void (*)(void* context, int op_index, const TensorInfo& output, const std::int8_t* data);

// Which kernels run the operators. kReference: the portable reference kernels (the truth).
// kAuto: the fastest set this build and CPU support (chosen at init: CPUID on x86-64, the
// compiler's target macros on Cortex-M, the hwcaps on AArch64 Linux). The others force a level; init fails if the CPU
// or the build lacks it: kAvx2 / kAvxVnni (AVX2 + VEX vpdpbusd) / kAvx512Vnni (x86-64), kArmDsp (Cortex-M4/M7/M33/M55
// DSP extension: SMLAD, SXTB16), kArmMve (Cortex-M55/M85 Helium), kArmNeon (AArch64 Advanced SIMD), kArmNeonDotprod
// (AArch64 with SDOT, Armv8.2-A dotprod; found at run time on Linux). Every set produces the same bytes.
enum class KernelSet : std::uint8_t {
  kReference,
  kAuto,
  kAvx2,
  kAvx512Vnni,
  kArmDsp,
  kArmMve,
  kArmNeon,
  kArmNeonDotprod,
  kAvxVnni
};
// "reference", "auto", "avx2", "avx512vnni", "dsp", "mve", "neon", "neon_dotprod", "avxvnni"
const char* kernel_set_name(KernelSet set);
// Parses those names; returns false for an unknown name.
bool parse_kernel_set(const char* name, KernelSet* set);

struct InterpreterOptions {
  KernelSet kernels = KernelSet::kAuto;
  // Row-band execution: where a convolution's output is read only by the next convolution (and
  // that shrinks the arena), the second one runs one output row at a time and the first computes
  // only the few rows of their shared tensor that row needs (src/core/plan/band_fusion.h). Same
  // bytes out in a smaller arena (README, "Memory", has the sizes), a little slower. The observer
  // is not called for the first op of a fused pair: its output never exists whole. Off by
  // default: layer-by-layer checks need every tensor.
  bool band_fusion = false;
};

class Interpreter {
 public:
  // Bytes of memory init() needs for `model` (arena plus per-operator data — multipliers and,
  // for optimized kernels, packed weights and scratch — with alignment).
  static std::size_t required_memory(const Model& model, KernelSet kernels = KernelSet::kAuto);
  static std::size_t required_memory(const Model& model, const InterpreterOptions& options);
  // The activation arena init() lays out: model.arena_bytes(), or less with band fusion.
  static std::size_t arena_bytes(const Model& model, bool band_fusion);

  // `memory` must hold required_memory(model, kernels or options) bytes and outlive the Interpreter; so must
  // `model`. Optimized kernels pack their weights here, once.
  Status init(const Model& model, void* memory, std::size_t memory_bytes, KernelSet kernels = KernelSet::kAuto);
  Status init(const Model& model, void* memory, std::size_t memory_bytes, const InterpreterOptions& options);

  // The set init() resolved kAuto to (kReference or the fastest level this build and CPU run).
  KernelSet kernel_set() const { return kernel_set_; }
  // Whether this build and CPU can run `set` (kReference and kAuto: always).
  static bool kernel_set_supported(KernelSet set);
  // Convolution pairs init() chose to run in row bands (0 without band fusion).
  int fused_pairs() const { return fused_pairs_; }

  std::int8_t* input();  // input tensor bytes (model.tensor(model.input_tensor()).bytes)
  const std::int8_t* output() const;
  std::size_t input_bytes() const;
  std::size_t output_bytes() const;
  // The model's embedding tensor (Model::embedding_tensor) after invoke(); nullptr / 0 when the
  // model has none. Valid until the next invoke().
  const std::int8_t* embedding() const;
  std::size_t embedding_bytes() const;

  Status invoke();
  // Bytes this object keeps per operator for what init() decides (internal; checked at compile time).
  static constexpr std::size_t kPreparedOpBytes = 32 + 6 * sizeof(void*);
  void set_observer(OpObserver observer, void* context) {
    observer_ = observer;
    observer_context_ = context;
  }

 private:
  std::int8_t* tensor_data(int tensor_index) const;
  void run_band_pair(int b);
  const Model* model_ = nullptr;
  std::uint8_t* arena_ = nullptr;
  std::int32_t arena_offsets_[kMaxTensors] = {};  // per tensor: the model's plan, or the fused one
  int fused_pairs_ = 0;
  KernelSet kernel_set_ = KernelSet::kReference;
  void* scratch_ = nullptr;  // the kernels' per-invoke scratch, shared by all operators
  // What init() decides per operator (kernels/prepared_op.h), kept here so that invoke() needs
  // nothing but this object and the caller's memory.
  alignas(void*) unsigned char prepared_[kMaxOperators * kPreparedOpBytes] = {};
  kernels::PreparedOp* prepared(int op) const;
  OpObserver observer_ = nullptr;
  void* observer_context_ = nullptr;
};

}  // namespace micronet_ad
