// Launcher of the CUDA Gather kernel (any dtype, moved as raw words).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace onyx::cuda {

// y[o, j, :] = x[o, indices[j], :] for o < outer, j < num_indices, with rows
// of `row_bytes` bytes and `axis_dim` rows per outer slice of x. `indices`
// (device memory) must already lie in [0, axis_dim). The widest word (16, 8,
// 4, 2 or 1 bytes) dividing row_bytes and both pointers' alignment moves them.
cudaError_t GatherRows(const void* x, const int64_t* indices, void* y, int64_t outer,
                       int64_t axis_dim, int64_t num_indices, int64_t row_bytes,
                       cudaStream_t stream);

}  // namespace onyx::cuda
