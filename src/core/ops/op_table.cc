#include "ops/op_table.h"

#include <cstdio>

namespace micronet_ad::ops {
namespace {

// One row per operator, in OpType order. Pointers, not copies: each row is defined in its op's file.
const OpDef* const kTable[] = {&kConv2DDef,  &kDepthwiseConv2DDef, &kAveragePool2DDef,
                               &kReshapeDef, &kFullyConnectedDef,  &kAddDef};
constexpr int kCount = static_cast<int>(sizeof(kTable) / sizeof(kTable[0]));

}  // namespace

const OpDef* const* table(int* count) {
  *count = kCount;
  return kTable;
}

const OpDef& def(OpType type) { return *kTable[static_cast<int>(type)]; }

const OpDef* find_builtin(int builtin_code) {
  for (const OpDef* d : kTable)
    if (d->builtin_code == builtin_code) return d;
  return nullptr;
}

void supported_list(char* out, std::size_t size) {
  if (size == 0) return;
  out[0] = '\0';
  std::size_t used = 0;
  for (int i = 0; i < kCount && used < size; ++i) {
    const char* sep = i == 0 ? "" : (i + 1 == kCount ? " and " : ", ");
    const int n = std::snprintf(out + used, size - used, "%s%s", sep, kTable[i]->name);
    if (n < 0) return;
    used += static_cast<std::size_t>(n);
  }
}

}  // namespace micronet_ad::ops

namespace micronet_ad {

OpTraits op_traits(OpType type) {
  const ops::OpDef& d = ops::def(type);
  return OpTraits{d.window, d.fused_activation, d.channel_params};
}

}  // namespace micronet_ad
