// Launchers of the CUDA data-movement kernels shared by Transpose, Slice,
// SliceGrad and Concat: elements are moved as raw 1/2/4/8-byte words, so every
// dtype runs. Plain C++ so host code and tests can call them.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "ops/tensor/transpose_cuda_types.h"

namespace onyx::cuda {

// Runs `plan` (see tensor::CopyPlan) from `src` to `dst`, elements of
// `elem_size` bytes (1, 2, 4 or 8; cudaErrorInvalidValue otherwise). Batched
// 2-D transposes take the shared-memory tile kernel, the rest one
// grid-stride index kernel that writes in destination order, over words of up
// to 16 bytes when the innermost dim is contiguous on both sides (WidenToWords).
cudaError_t StridedCopy(size_t elem_size, const tensor::CopyPlan& plan, const void* src, void* dst,
                        cudaStream_t stream);

}  // namespace onyx::cuda
