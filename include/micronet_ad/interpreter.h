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

struct InterpreterOptions {
  KernelSet kernels = KernelSet::kAuto;
  // Row-band execution: where a convolution's output is read only by the next convolution (and
  // that shrinks the arena), the second one runs one output row at a time and the first computes
  // only the few rows of their shared tensor that row needs (src/core/plan/band_fusion.h). Same
  // bytes out in a smaller arena (ad_small 98,304 → 68,288 B, ad_medium 245,760 → 141,312 B,
  // ad_large 353,280 → 146,048 B), a little slower. The observer is not called for the first op
  // of a fused pair: its output never exists whole. Off by default: layer-by-layer checks need
  // every tensor.
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

  // The set init() resolved kAuto to (kReference, kAvx2 or kAvx512Vnni).
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
    // > 0: this op is the second of a band-fused pair and reads its input as a band of this many
    // rows, which the previous op (not run on its own) computes on demand.
    int band_rows = 0;
  };

 private:
  std::int8_t* tensor_data(int tensor_index) const;
  void run_band_pair(int b);
  const Model* model_ = nullptr;
  std::uint8_t* arena_ = nullptr;
  std::int32_t arena_offsets_[kMaxTensors] = {};  // per tensor: the model's plan, or the fused one
  int fused_pairs_ = 0;
  KernelSet kernel_set_ = KernelSet::kReference;
  std::int8_t* im2col_ = nullptr;  // scratch shared by the im2col convolutions
  void* gemm_scratch_ = nullptr;   // scratch shared by the GEMMs (AVX2 int16 rows)
  PreparedOp prepared_[kMaxOperators];
  OpObserver observer_ = nullptr;
  void* observer_context_ = nullptr;
};

}  // namespace micronet_ad
