// Host-side plans of the CUDA math kernels, plain C++ built in every
// configuration (so tests run without a GPU):
//  - StridedBatches: a NumPy-broadcast batched matmul as a few strided-batched
//    cuBLAS calls (an operand either repeats one matrix, stride 0, or walks
//    contiguous matrices);
//  - ReducePlan: ReduceToShape (sum of a gradient over its broadcast dims) as
//    merged kept / reduced dims with input strides, for the reduction kernel.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/shape.h"

namespace onyx::math {

// Output batch `batch` (dims of y without its matrix dims) and the operands'
// batch dims, each already padded with leading 1s to batch.size() and
// broadcasting into it. The batch is split into an inner run of `count`
// matrices done by one strided-batched call (operand k advances by
// stride[k] matrices, 0 or 1) and an outer loop of calls, whose first operand
// matrices are offsets[call][k]; call c writes output matrices
// [c * count, (c + 1) * count).
struct StridedBatches {
  int64_t count = 1;
  int64_t stride[2] = {0, 0};
  std::vector<std::array<int64_t, 2>> offsets;  // one per call
};
StridedBatches PlanStridedBatches(const Shape& batch, const Shape& a_batch, const Shape& b_batch);

// out = grad summed over the dims along which `target` broadcasts into grad's
// shape (ReduceSumToShape's rule: target right-aligned, leading 1s beyond
// grad's rank dropped). Dims of size 1 in grad are dropped and adjacent dims of
// the same kind merged; `kept` lists the output's dims (outermost first) with
// their input strides, `reduced` the summed dims. Output element o (row-major
// over kept) sums input[offset(o) + offset(r)] over r in row-major `reduced`.
struct ReducePlan {
  struct Dim {
    int64_t size;
    int64_t stride;  // in input elements
  };
  std::vector<Dim> kept, reduced;
  int64_t num_outputs = 1;  // product of kept sizes (== target's element count)
  int64_t reduce_count = 1;  // product of reduced sizes (0 sums nothing: zeros)
  // True when the input's innermost (stride-1) dim is kept: threads owning
  // adjacent outputs then read adjacent inputs.
  bool inner_kept() const { return !kept.empty() && kept.back().stride == 1; }
};
// InvalidArgument when `target` does not broadcast into `grad`.
absl::StatusOr<ReducePlan> PlanReduceToShape(const Shape& grad, const Shape& target);

// How the CUDA reduction splits the work (a function of the shapes only, so
// the summation order, and the result, is the same on every run):
//  - by_thread: one thread per output (outputs along the input's inner dim,
//    so a warp reads consecutive inputs), else one block per output;
//  - chunks: the reduce range is cut into this many consecutive pieces, each
//    summed by its own thread / block into a double partial, and the partials
//    of each output are then added in chunk order. 1 means no partials.
struct ReduceLaunch {
  bool by_thread = false;
  int64_t chunks = 1;
  int64_t chunk_size = 0;  // reduce indices per chunk (the last may have fewer)
};
ReduceLaunch PlanReduceLaunch(const ReducePlan& plan);

}  // namespace onyx::math
