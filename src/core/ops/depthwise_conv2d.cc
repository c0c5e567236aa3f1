// DEPTHWISE_CONV_2D: weights [1, h, w, out], per-channel along dimension 3; shares CONV_2D's
// checks, MAC count and dispatch (ops/conv2d.cc).
#include "ops/op_table.h"

namespace micronet_ad::ops {

Status validate_depthwise_conv2d(const OpChecker& check, OperatorInfo* info);  // ops/conv2d.cc
std::int64_t conv_macs(const Model& model, const OperatorInfo& op);
void invoke_conv(const InvokeArgs& a);

// The row keeps its fields grouped as OpDef (op_table.h) declares them.
// clang-format off
const OpDef kDepthwiseConv2DDef = {
    OpType::kDepthwiseConv2D, 4, "DEPTHWISE_CONV_2D",
    /*min_inputs=*/2, /*max_inputs=*/3, /*optional_input=*/2, /*activation_inputs=*/1,
    /*channel_params=*/true, /*weights_quantized_dim=*/3,
    /*window=*/true, /*fused_activation=*/true, /*output_aliases_input=*/false, KernelList::kDepthwise,
    validate_depthwise_conv2d, conv_macs, prepare_window, output_channels, fill_channel_multipliers, invoke_conv};
// clang-format on

}  // namespace micronet_ad::ops
