// Row-band execution ("band fusion"): a convolution A whose output T is read only by the
// next convolution B need not materialize T. B is run one output row at a time, and A computes
// just the rows of T that row needs, into a band of H = (B.filter_h − 1)·B.dilation_h + 1 rows.
// The arena then holds the band instead of T, while A's input lives on until B is done.
//
// Pairs are chosen greedily, in passes over the operators (each op in at most one pair, no
// chains), keeping a pair only if it shrinks the planned arena: elsewhere it would only cost speed.
#pragma once

#include <cstddef>
#include <cstdint>

#include "micronet_ad/model.h"
#include "micronet_ad/status.h"

namespace micronet_ad::plan {

struct BandFusion {
  // band_rows[op] > 0: op is the B of a fused pair, reading a band of that many rows of its input,
  // which op − 1 computes on demand. 0 elsewhere.
  std::int16_t band_rows[kMaxOperators] = {};
  int num_pairs = 0;
  std::size_t arena_bytes = 0;  // the fused plan's arena (the model's own when no pair helps)
  std::size_t lower_bound = 0;  // most bytes alive during one operator, bands counted as bands
};

// Rows of T that B reads at once, or 0 when ops `a` and `a + 1` cannot form a pair.
int band_rows_for_pair(const Model& model, int a);

// Chooses the pairs and plans the arena for them. `offsets` (kMaxTensors entries, or nullptr)
// receives each tensor's arena offset in the fused plan (−1: not an activation).
Status plan_band_fusion(const Model& model, BandFusion* out, std::int32_t* offsets);

}  // namespace micronet_ad::plan
