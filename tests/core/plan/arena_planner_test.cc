// The arena planner: no two tensors alive at the same time may overlap, and for the chains
// MicroNet is made of the arena must reach the layer-at-a-time lower bound.
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "host/io/model_file.h"
#include "plan/arena_planner.h"
#include "support/test_data.h"

namespace micronet_ad {
namespace {

TensorPlan activation(int size, int first, int last, int alias = -1) {
  TensorPlan p;
  p.size = size;
  p.first_op = static_cast<std::int16_t>(first);
  p.last_op = static_cast<std::int16_t>(last);
  p.alias_of = static_cast<std::int16_t>(alias);
  return p;
}

void expect_no_live_overlap(const std::vector<TensorPlan>& plans) {
  for (std::size_t a = 0; a < plans.size(); ++a) {
    for (std::size_t b = a + 1; b < plans.size(); ++b) {
      const TensorPlan &x = plans[a], &y = plans[b];
      if (x.size == 0 || y.size == 0 || x.alias_of >= 0 || y.alias_of >= 0) continue;
      const bool live_together = x.first_op <= y.last_op && y.first_op <= x.last_op;
      const bool overlap = x.arena_offset < y.arena_offset + y.size && y.arena_offset < x.arena_offset + x.size;
      EXPECT_FALSE(live_together && overlap) << "tensors " << a << " and " << b;
    }
  }
}

TEST(ArenaPlanner, ChainReachesLargestAdjacentPair) {
  // ad_small's activation sizes in order: input, then one output per operator.
  const int sizes[] = {1024, 73728, 18432, 41984, 41984, 56320, 14080, 17664, 4416, 4416, 276, 8};
  std::vector<TensorPlan> plans;
  for (int i = 0; i < 12; ++i) plans.push_back(activation(sizes[i], i - 1, i == 11 ? 11 : i));
  std::size_t arena = 0, bound = 0;
  ASSERT_TRUE(plan::plan_arena(plans.data(), static_cast<int>(plans.size()), 11, &arena, &bound).ok());
  EXPECT_EQ(bound, 98304u);
  EXPECT_EQ(arena, 98304u);
  expect_no_live_overlap(plans);
  for (const auto& p : plans) EXPECT_EQ(p.arena_offset % static_cast<int>(kArenaAlignment), 0);
}

TEST(ArenaPlanner, AliasSharesRootBytesAndExtendsItsLife) {
  std::vector<TensorPlan> plans = {activation(64, -1, 0), activation(32, 0, 1), activation(32, 1, 2, 1),
                                   activation(48, 2, 3)};
  std::size_t arena = 0, bound = 0;
  ASSERT_TRUE(plan::plan_arena(plans.data(), 4, 3, &arena, &bound).ok());
  EXPECT_EQ(plans[2].arena_offset, plans[1].arena_offset);
  EXPECT_EQ(plans[1].last_op, 2);  // root lives while its alias is read
  const bool overlap =
      plans[1].arena_offset < plans[3].arena_offset + 48 && plans[3].arena_offset < plans[1].arena_offset + 32;
  EXPECT_FALSE(overlap);
}

TEST(ArenaPlanner, RandomLifetimesNeverOverlapAndRespectBound) {
  std::mt19937 rng(99);
  for (int trial = 0; trial < 300; ++trial) {
    const int n = 2 + static_cast<int>(rng() % 40), ops = 1 + static_cast<int>(rng() % 20);
    std::vector<TensorPlan> plans;
    for (int t = 0; t < n; ++t) {
      const int a = static_cast<int>(rng() % ops), b = static_cast<int>(rng() % ops);
      plans.push_back(activation(1 + static_cast<int>(rng() % 5000), std::min(a, b), std::max(a, b)));
    }
    std::size_t arena = 0, bound = 0;
    ASSERT_TRUE(plan::plan_arena(plans.data(), n, ops, &arena, &bound).ok());
    expect_no_live_overlap(plans);
    EXPECT_GE(arena, bound);
    for (const auto& p : plans) EXPECT_LE(static_cast<std::size_t>(p.arena_offset + p.size), arena);
  }
}

TEST(ArenaPlanner, SharedModelsReachTheirLowerBound) {
  for (const char* name : {"small", "medium", "large"}) {
    const auto file = host::load_model_file(test::model_path(name));
    EXPECT_EQ(file->model.arena_bytes(), file->model.arena_lower_bound()) << name;
  }
}

}  // namespace
}  // namespace micronet_ad
