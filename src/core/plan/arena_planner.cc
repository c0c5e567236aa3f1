#include "plan/arena_planner.h"

#include <cstdint>

namespace micronet_ad::plan {
namespace {

std::int64_t align_up(std::int64_t n) {
  constexpr std::int64_t a = static_cast<std::int64_t>(kArenaAlignment);
  return (n + a - 1) / a * a;
}

bool lifetimes_overlap(const TensorPlan& a, const TensorPlan& b) {
  return a.first_op <= b.last_op && b.first_op <= a.last_op;
}

int root_of(const TensorPlan* plans, int t) {
  for (int guard = 0; plans[t].alias_of >= 0 && guard < kMaxTensors; ++guard) t = plans[t].alias_of;
  return t;
}

}  // namespace

Status plan_arena(TensorPlan* plans, int count, int num_ops, std::size_t* arena_bytes, std::size_t* lower_bound) {
  if (count > kMaxTensors) return Status::Error("planner: %d tensors, at most %d", count, kMaxTensors);

  // An alias shares its root's bytes, so the root must stay alive as long as any alias.
  for (int t = 0; t < count; ++t) {
    if (plans[t].size == 0 || plans[t].alias_of < 0) continue;
    TensorPlan& root = plans[root_of(plans, t)];
    if (plans[t].first_op < root.first_op) root.first_op = plans[t].first_op;
    if (plans[t].last_op > root.last_op) root.last_op = plans[t].last_op;
  }

  // Roots in decreasing size (ties: earlier first use), a stable insertion sort: n is small.
  std::int16_t order[kMaxTensors];
  int n = 0;
  for (int t = 0; t < count; ++t) {
    if (plans[t].size == 0 || plans[t].alias_of >= 0) continue;
    int i = n++;
    while (i > 0) {
      const TensorPlan& prev = plans[order[i - 1]];
      const bool before =
          plans[t].size > prev.size || (plans[t].size == prev.size && plans[t].first_op < prev.first_op);
      if (!before) break;
      order[i] = order[i - 1];
      --i;
    }
    order[i] = static_cast<std::int16_t>(t);
  }

  std::int64_t arena_end = 0;
  for (int k = 0; k < n; ++k) {
    TensorPlan& cur = plans[order[k]];
    const std::int64_t size = align_up(cur.size);
    // Lowest offset (0 or the end of a placed, overlapping tensor) that clashes with none.
    std::int64_t best = -1;
    for (int c = -1; c < k; ++c) {
      std::int64_t candidate = 0;
      if (c >= 0) {
        const TensorPlan& other = plans[order[c]];
        if (!lifetimes_overlap(cur, other)) continue;
        candidate = other.arena_offset + align_up(other.size);
      }
      if (best >= 0 && candidate >= best) continue;
      bool clash = false;
      for (int j = 0; j < k && !clash; ++j) {
        const TensorPlan& other = plans[order[j]];
        if (!lifetimes_overlap(cur, other)) continue;
        const std::int64_t lo = other.arena_offset, hi = lo + align_up(other.size);
        clash = candidate < hi && lo < candidate + size;
      }
      if (!clash) best = candidate;
    }
    if (best + size > INT32_MAX) return Status::Error("planner: arena would exceed 2 GiB");
    cur.arena_offset = static_cast<std::int32_t>(best);
    if (best + size > arena_end) arena_end = best + size;
  }
  for (int t = 0; t < count; ++t) {
    if (plans[t].size != 0 && plans[t].alias_of >= 0) plans[t].arena_offset = plans[root_of(plans, t)].arena_offset;
  }

  // Lower bound: the most bytes alive during any one operator (graph input counts at op 0).
  std::int64_t bound = 0;
  for (int op = 0; op < num_ops; ++op) {
    std::int64_t live = 0;
    for (int k = 0; k < n; ++k) {
      const TensorPlan& p = plans[order[k]];
      if (p.first_op <= op && op <= p.last_op) live += p.size;
    }
    if (live > bound) bound = live;
  }
  *arena_bytes = static_cast<std::size_t>(arena_end);
  *lower_bound = static_cast<std::size_t>(bound);
  return Status::Ok();
}

}  // namespace micronet_ad::plan
