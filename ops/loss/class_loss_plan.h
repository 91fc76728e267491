// Launch geometry of the CUDA class-index losses, kept free of CUDA so the CPU
// tests check it in every build: how many threads share one (n, d) row of the
// [N, C, D] scores, and where that row lies in memory.
#pragma once

#include <cstdint>

#ifndef ONYX_HD
#ifdef __CUDACC__
#define ONYX_HD __host__ __device__ __forceinline__
#else
#define ONYX_HD inline
#endif
#endif

namespace onyx::loss_plan {

constexpr int kBlockThreads = 256;  // every class-loss kernel runs 256-thread blocks
constexpr int kWarpSize = 32;

// Row r = n·D + d of scores [N, C, D]: class k sits at base + k·stride.
struct RowView {
  int64_t base = 0;
  int64_t stride = 1;
};

ONYX_HD RowView RowOf(int64_t r, int64_t c, int64_t d) {
  const int64_t n = r / d;
  RowView v;
  v.base = n * c * d + (r - n * d);
  v.stride = d;
  return v;
}

// Threads that share one row: 1 (thread per row), 32 (warp) or 256 (block).
struct RowGrouping {
  int threads_per_row = 1;
  int rows_per_block() const { return kBlockThreads / threads_per_row; }
};

// The grid-stride walk over rows: thread `thread` of block `block` starts at
// FirstRow and advances by RowStep; the kernel's threads of one row share both.
ONYX_HD int64_t FirstRow(int64_t block, int thread, int threads_per_row) {
  return block * (kBlockThreads / threads_per_row) + thread / threads_per_row;
}
ONYX_HD int64_t RowStep(int64_t blocks, int threads_per_row) {
  return blocks * (kBlockThreads / threads_per_row);
}

// D >= 32 (classes strided by D) or few classes: a thread per row, so that
// neighbouring threads read neighbouring d (or nearby rows) and loads coalesce.
// Otherwise many classes: a warp per row, or a whole block once a row is long
// enough to keep 256 threads busy.
RowGrouping ChooseRowGrouping(int64_t c, int64_t d);

// Blocks of a grid-stride loop over `rows` rows grouped as `grouping`, at least
// 1 and at most `max_blocks` (the device's resident-block budget).
int RowBlocks(int64_t rows, RowGrouping grouping, int max_blocks);

}  // namespace onyx::loss_plan
