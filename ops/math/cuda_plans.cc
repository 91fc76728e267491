// Host-side plans of the CUDA math kernels (see cuda_plans.h).
#include "ops/math/cuda_plans.h"

#include <algorithm>

#include "absl/strings/str_format.h"
#include "ops/math/broadcast.h"

namespace onyx::math {

StridedBatches PlanStridedBatches(const Shape& batch, const Shape& a_batch,
                                  const Shape& b_batch) {
  const int rank = static_cast<int>(batch.size());
  const Shape* ops[2] = {&a_batch, &b_batch};
  StridedBatches plan;
  if (NumElements(batch) == 0) {
    plan.count = 0;
    return plan;
  }
  // The inner run: the longest suffix of batch dims over which each operand is
  // either full (its dims equal the output's) or repeated (its dims are 1).
  enum Kind { kUnknown, kFull, kRepeated };
  Kind kind[2] = {kUnknown, kUnknown};
  int split = rank;
  for (int d = rank - 1; d >= 0; --d) {
    if (batch[d] == 1) {
      split = d;
      continue;
    }
    bool fits = true;
    Kind here[2];
    for (int k = 0; k < 2; ++k) {
      here[k] = (*ops[k])[d] == 1 ? kRepeated : kFull;
      if (kind[k] != kUnknown && kind[k] != here[k]) fits = false;
    }
    if (!fits) break;
    kind[0] = here[0];
    kind[1] = here[1];
    split = d;
  }
  plan.count = 1;
  for (int d = split; d < rank; ++d) plan.count *= batch[d];
  for (int k = 0; k < 2; ++k) plan.stride[k] = kind[k] == kFull ? 1 : 0;
  // Matrix strides of each operand over the outer dims (0 where repeated).
  std::vector<int64_t> strides[2];
  for (int k = 0; k < 2; ++k) {
    strides[k].assign(rank, 0);
    int64_t stride = 1;
    for (int d = rank - 1; d >= 0; --d) {
      const int64_t dim = (*ops[k])[d];
      strides[k][d] = dim == 1 ? 0 : stride;
      stride *= dim;
    }
  }
  int64_t outer = 1;
  for (int d = 0; d < split; ++d) outer *= batch[d];
  plan.offsets.resize(outer);
  for (int64_t i = 0; i < outer; ++i) {
    int64_t rest = i;
    std::array<int64_t, 2> at = {0, 0};
    for (int d = split - 1; d >= 0; --d) {
      const int64_t coord = rest % batch[d];
      rest /= batch[d];
      at[0] += coord * strides[0][d];
      at[1] += coord * strides[1][d];
    }
    plan.offsets[i] = at;
  }
  return plan;
}

absl::StatusOr<ReducePlan> PlanReduceToShape(const Shape& grad, const Shape& target) {
  // Leading 1s beyond grad's rank carry no data (as ReduceSumToShape).
  Shape aligned = target;
  while (aligned.size() > grad.size() && aligned.front() == 1) aligned.erase(aligned.begin());
  if (!BroadcastsInto(aligned, grad)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("target shape %s does not broadcast to gradient shape %s",
                        ShapeToString(target), ShapeToString(grad)));
  }
  aligned.insert(aligned.begin(), grad.size() - aligned.size(), 1);
  ReducePlan plan;
  const int rank = static_cast<int>(grad.size());
  std::vector<int64_t> strides(rank, 1);
  for (int d = rank - 2; d >= 0; --d) strides[d] = strides[d + 1] * grad[d + 1];
  bool last_kept = false;
  for (int d = 0; d < rank; ++d) {
    if (grad[d] == 1) continue;  // adds nothing to any index
    const bool kept = aligned[d] == grad[d];
    std::vector<ReducePlan::Dim>& dims = kept ? plan.kept : plan.reduced;
    // Dims between two of one kind have size 1, so the pair is contiguous.
    if (!dims.empty() && last_kept == kept) {
      dims.back().size *= grad[d];
      dims.back().stride = strides[d];
    } else {
      dims.push_back({grad[d], strides[d]});
    }
    last_kept = kept;
  }
  for (const auto& d : plan.kept) plan.num_outputs *= d.size;
  for (const auto& d : plan.reduced) plan.reduce_count *= d.size;
  return plan;
}

ReduceLaunch PlanReduceLaunch(const ReducePlan& plan) {
  // Enough threads (by_thread) or blocks to fill a large GPU several times;
  // each chunk keeps a minimum of work so the partials stay few.
  constexpr int64_t kTargetThreads = int64_t{1} << 18;
  constexpr int64_t kTargetBlocks = 1024;
  constexpr int64_t kMinPerThreadChunk = 32;
  constexpr int64_t kMinPerBlockChunk = 4096;
  constexpr int64_t kMaxChunks = 65535;  // CUDA's grid.y limit
  constexpr int64_t kWarp = 32;
  ReduceLaunch launch;
  launch.by_thread = plan.inner_kept() && plan.num_outputs >= kWarp;
  const int64_t r = plan.reduce_count;
  launch.chunk_size = r;
  if (plan.num_outputs == 0 || r == 0) return launch;
  const int64_t wanted = launch.by_thread ? kTargetThreads : kTargetBlocks;
  const int64_t min_chunk = launch.by_thread ? kMinPerThreadChunk : kMinPerBlockChunk;
  int64_t chunks = std::max<int64_t>(1, wanted / plan.num_outputs);
  chunks = std::min({chunks, (r + min_chunk - 1) / min_chunk, kMaxChunks});
  chunks = std::max<int64_t>(chunks, 1);
  launch.chunk_size = (r + chunks - 1) / chunks;
  launch.chunks = (r + launch.chunk_size - 1) / launch.chunk_size;  // none empty
  return launch;
}

}  // namespace onyx::math
