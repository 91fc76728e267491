// Launch geometry of the CUDA class-index losses (host side, no CUDA needed).
#include "ops/loss/class_loss_plan.h"

namespace onyx::loss_plan {

namespace {
// Below this many classes most lanes of a warp per row would idle.
constexpr int64_t kMinClassesPerWarp = 32;
// From this many classes a row feeds 256 threads with >= 16 elements each.
constexpr int64_t kMinClassesPerBlock = 4096;
}  // namespace

RowGrouping ChooseRowGrouping(int64_t c, int64_t d) {
  RowGrouping g;
  if (d >= kWarpSize || c < kMinClassesPerWarp) {
    g.threads_per_row = 1;
  } else if (c >= kMinClassesPerBlock) {
    g.threads_per_row = kBlockThreads;
  } else {
    g.threads_per_row = kWarpSize;
  }
  return g;
}

int RowBlocks(int64_t rows, RowGrouping grouping, int max_blocks) {
  const int64_t per_block = grouping.rows_per_block();
  const int64_t needed = (rows + per_block - 1) / per_block;
  if (needed < 1) return 1;
  return static_cast<int>(needed < max_blocks ? needed : max_blocks);
}

}  // namespace onyx::loss_plan
