// Places every activation tensor in one arena so that tensors alive at the same time never
// overlap. Greedy by size (largest first, lowest free offset), like TFLite Micro's planner,
// plus in-place RESHAPE: an alias takes its root's bytes and extends the root's lifetime.
#pragma once

#include <cstddef>

#include "micronet_ad/model.h"
#include "micronet_ad/status.h"

namespace micronet_ad::plan {

// `plans` holds size, first_op, last_op and alias_of for each of `count` tensors (size 0: not an
// activation). Fills arena_offset for every activation and returns the arena size and the
// lower bound (largest sum of sizes alive during one operator).
Status plan_arena(TensorPlan* plans, int count, int num_ops, std::size_t* arena_bytes, std::size_t* lower_bound);

}  // namespace micronet_ad::plan
