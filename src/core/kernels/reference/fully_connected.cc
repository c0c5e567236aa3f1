#include "kernels/reference/reference.h"
#include "quant/quantization.h"

namespace micronet_ad::kernels::reference {

// TFLite's int8 FullyConnected (reference/integer_ops/fully_connected.h): per output unit u,
// acc = Σ_d (x[d] + input_offset) · w[u][d] (weight zero points are 0), then bias, requantize with
// unit u's multiplier, add the output zero point and clamp — the same requantize() as CONV_2D.
void fully_connected(int batches, int depth, int units, const Requantization& rq, const std::int8_t* input,
                     const std::int8_t* filter, const std::int32_t* bias, std::int8_t* output) {
  for (int b = 0; b < batches; ++b) {
    const std::int8_t* x = input + static_cast<std::size_t>(b) * depth;
    for (int u = 0; u < units; ++u) {
      const std::int8_t* w = filter + static_cast<std::size_t>(u) * depth;
      std::int32_t acc = 0;
      for (int d = 0; d < depth; ++d) acc += (static_cast<std::int32_t>(x[d]) + rq.input_offset) * w[d];
      output[static_cast<std::size_t>(b) * units + u] =
          quant::requantize(acc, bias != nullptr ? bias[u] : 0, rq.multipliers[u], rq.shifts[u], rq.output_offset,
                            rq.act_min, rq.act_max);
    }
  }
}

}  // namespace micronet_ad::kernels::reference
