// Reference kernels: plain loops that define the truth (TFLite's reference integer kernels).
// Optimized variants must produce the same bytes for every shape.
#pragma once

#include <cstdint>

#include "kernels/kernel_params.h"

namespace micronet_ad::kernels::reference {

void conv2d(const ConvGeometry& g, const Requantization& rq, const std::int8_t* input,
            const std::int8_t* filter, const std::int32_t* bias, std::int8_t* output);

void depthwise_conv2d(const ConvGeometry& g, const Requantization& rq, const std::int8_t* input,
                      const std::int8_t* filter, const std::int32_t* bias, std::int8_t* output);

void average_pool2d(const PoolGeometry& g, const std::int8_t* input, std::int8_t* output);

}  // namespace micronet_ad::kernels::reference
