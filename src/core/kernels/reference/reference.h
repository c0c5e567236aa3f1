// Reference kernels: plain loops that define the truth (TFLite's reference integer kernels).
// Optimized variants must produce the same bytes for every shape.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/kernel_params.h"

namespace micronet_ad::kernels::reference {

void conv2d(const ConvGeometry& g, const Requantization& rq, const std::int8_t* input, const std::int8_t* filter,
            const std::int32_t* bias, std::int8_t* output);

void depthwise_conv2d(const ConvGeometry& g, const Requantization& rq, const std::int8_t* input,
                      const std::int8_t* filter, const std::int32_t* bias, std::int8_t* output);

void average_pool2d(const PoolGeometry& g, const std::int8_t* input, std::int8_t* output);

// FULLY_CONNECTED: input [batches, depth] (any shape flattened), filter [units, depth],
// output [batches, units]; rq holds one multiplier per unit (or per-tensor repeated).
void fully_connected(int batches, int depth, int units, const Requantization& rq, const std::int8_t* input,
                     const std::int8_t* filter, const std::int32_t* bias, std::int8_t* output);

// ADD of two int8 tensors of the same shape, `n` elements.
void add(const AddParams& p, std::size_t n, const std::int8_t* input1, const std::int8_t* input2, std::int8_t* output);

}  // namespace micronet_ad::kernels::reference
