// NumPy-broadcast iteration shared by elementwise kernels and gradient
// reduction: per-operand strides (0 on broadcast dims) over an output shape,
// with adjacent dims collapsed wherever every operand is contiguous across
// them.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "runtime/shape.h"
#include "runtime/tensor.h"

namespace onyx {

// Strides (in elements) of a row-major tensor of `shape` read as `out_shape`:
// right-aligned, 0 where `shape` has a 1 (or no dim) against a larger output
// dim. `shape` must broadcast into `out_shape` (BroadcastShapes(shape, out) ==
// out).
std::vector<int64_t> BroadcastStrides(absl::Span<const int64_t> shape,
                                      absl::Span<const int64_t> out_shape);

// The shape binary inputs A and B broadcast to, when they share a dtype; else
// InvalidArgument, the message starting with `who` (a node's Describe()).
absl::StatusOr<Shape> SameDtypeBroadcastShape(std::string_view who, const Tensor& a,
                                              const Tensor& b);

// True when `shape` broadcasts into `out_shape` unidirectionally (its rank is
// at most out's and each right-aligned dim is 1 or equal).
bool BroadcastsInto(absl::Span<const int64_t> shape, absl::Span<const int64_t> out_shape);

// Offset of element `linear` (row-major index into `dims`) for an operand with
// `strides` over `dims`.
int64_t BroadcastOffset(int64_t linear, absl::Span<const int64_t> dims,
                        absl::Span<const int64_t> strides);

// Iteration over an output shape for up to kMaxOperands operands at once. The
// space is cut into rows (all dims but the innermost collapsed one) and rows
// into blocks, so even a 1-D loop can be spread over threads.
class BroadcastLoop {
 public:
  static constexpr int kMaxOperands = 4;

  // `operand_strides[k]` are operand k's strides over `out_shape`, e.g. from
  // BroadcastStrides; the output itself is usually operand 0 with plain
  // strides.
  BroadcastLoop(absl::Span<const int64_t> out_shape,
                const std::vector<std::vector<int64_t>>& operand_strides);

  int num_operands() const { return num_operands_; }
  int64_t num_elements() const { return num_elements_; }
  int64_t num_rows() const { return num_rows_; }
  int64_t inner_size() const { return dims_.back(); }
  int64_t inner_stride(int k) const { return strides_.back()[k]; }
  // Collapsed dims (rank >= 1), mostly for tests.
  const std::vector<int64_t>& dims() const { return dims_; }
  // Start offset of each operand in row `row`, written to
  // offsets[0..num_operands).
  void RowOffsets(int64_t row, int64_t* offsets) const;

 private:
  int num_operands_;
  int64_t num_elements_;
  int64_t num_rows_;
  std::vector<int64_t> dims_;
  std::vector<std::vector<int64_t>> strides_;  // [dim][operand]
};

// Calls fn(offsets, n) over every block: `n` consecutive inner elements
// starting at offsets[k] for operand k, which advances by loop.inner_stride(k).
// Blocks run on the OpenMP pool when `parallel` and the loop is large enough,
// so `fn` must not write memory another block reads or writes.
template <typename Fn>
void ForEachBlock(const BroadcastLoop& loop, bool parallel, Fn&& fn) {
  constexpr int64_t kBlock = 8192;
  constexpr int64_t kParallelMinElements = 1 << 15;
  if (loop.num_elements() == 0) return;
  const int64_t inner = loop.inner_size();
  const int64_t block = std::min(inner, kBlock);
  const int64_t blocks_per_row = (inner + block - 1) / block;
  const int64_t total = loop.num_rows() * blocks_per_row;
  const int num_ops = loop.num_operands();
  const bool go_parallel = parallel && total > 1 && loop.num_elements() >= kParallelMinElements;
#pragma omp parallel for schedule(static) if (go_parallel)
  for (int64_t t = 0; t < total; ++t) {
    int64_t offsets[BroadcastLoop::kMaxOperands];
    const int64_t row = t / blocks_per_row;
    const int64_t start = (t % blocks_per_row) * block;
    loop.RowOffsets(row, offsets);
    for (int k = 0; k < num_ops; ++k) offsets[k] += start * loop.inner_stride(k);
    fn(static_cast<const int64_t*>(offsets), std::min(block, inner - start));
  }
}

// Sums `grad` over the dims along which a tensor of shape `target` was
// broadcast to grad's shape (the gradient of broadcasting): the result has
// shape `target`. InvalidArgument when `target` does not broadcast into grad's
// shape or the dtype is not float32/float64/int32/int64. Float sums accumulate
// in double.
absl::StatusOr<Tensor> ReduceSumToShape(const Tensor& grad, const Shape& target);

}  // namespace onyx
