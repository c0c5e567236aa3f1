#include "kernels/reference/reference.h"
#include "quant/quantization.h"

namespace micronet_ad::kernels::reference {

// TFLite's int8 AddElementwise (reference/integer_ops/add.h). Offset inputs lie in [−255, 255],
// so shifted by 20 they stay far inside int32; the two rescaled values are each at most 2^30 in
// magnitude (multipliers ≤ 0.5), so their sum cannot overflow either.
void add(const AddParams& p, std::size_t n, const std::int8_t* input1, const std::int8_t* input2, std::int8_t* output) {
  for (std::size_t i = 0; i < n; ++i) {
    const std::int32_t a = (p.input1_offset + input1[i]) * (1 << p.left_shift);
    const std::int32_t b = (p.input2_offset + input2[i]) * (1 << p.left_shift);
    const std::int32_t sa = quant::multiply_by_quantized_multiplier(a, p.input1_multiplier, p.input1_shift);
    const std::int32_t sb = quant::multiply_by_quantized_multiplier(b, p.input2_multiplier, p.input2_shift);
    std::int32_t v =
        quant::multiply_by_quantized_multiplier(sa + sb, p.output_multiplier, p.output_shift) + p.output_offset;
    v = v < p.act_min ? p.act_min : (v > p.act_max ? p.act_max : v);
    output[i] = static_cast<std::int8_t>(v);
  }
}

}  // namespace micronet_ad::kernels::reference
