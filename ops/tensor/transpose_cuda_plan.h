// Host-side planning of the CUDA data-movement kernels (Transpose, Slice,
// SliceGrad, Concat): a strided copy over at most kMaxRank collapsed dims, and
// the batched-2-D-transpose shape that the tiled kernel takes. Plain C++ with
// no CUDA types, so it builds (and is unit-tested) without ONYX_CUDA.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "ops/tensor/transpose_cuda_types.h"

namespace onyx::tensor {

// The copy of `dims` with size-1 dims dropped and each dim merged into the one
// before it wherever both sides stay linear across the pair (a contiguous copy
// becomes one dim). Unimplemented when more than kMaxRank dims remain;
// InvalidArgument when the spans' lengths differ.
absl::StatusOr<CopyPlan> MakeCopyPlan(absl::Span<const int64_t> dims,
                                      absl::Span<const int64_t> src_strides,
                                      absl::Span<const int64_t> dst_strides);

}  // namespace onyx::tensor
