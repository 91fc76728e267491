// Launchers of the CUDA LayerNormalization kernels (T float or double): X
// viewed as [outer, inner] rows, Scale and B holding exactly the inner dims.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace onyx::cuda {

// Per row: mean, inv_std = 1 / sqrt(var + epsilon) (two passes over the row,
// in T), y = (x - mean) * inv_std * scale + bias. `bias`, `mean_out` and
// `inv_std_out` may be null. Rows up to kWarpRowLimit take a warp each, longer
// ones a 256-thread block.
template <typename T>
cudaError_t LayerNormForward(const T* x, const T* scale, const T* bias, T* y, T* mean_out,
                             T* inv_std_out, int64_t outer, int64_t inner, T epsilon,
                             cudaStream_t stream);

// The partial-sum rows LayerNormBackward needs in its `partials` scratch
// (doubles): 2 * chunks * inner, chunks = LayerNormGradChunks(outer).
int64_t LayerNormGradChunks(int64_t outer);

// dx = inv_std * (g - mean(g) - x_hat * mean(g * x_hat)), g = dy * scale, per
// row; dscale[j] = sum_r dy * x_hat and dbias[j] = sum_r dy, reduced without
// atomics (per-chunk partials in `partials`, then a fixed-order pass), so
// repeated runs give identical bits. `row_stats` is scratch of 2 * outer T.
// dx, dscale and dbias may each be null.
template <typename T>
cudaError_t LayerNormBackward(const T* dy, const T* x, const T* scale, T* dx, T* dscale, T* dbias,
                              int64_t outer, int64_t inner, T epsilon, T* row_stats,
                              double* partials, cudaStream_t stream);

}  // namespace onyx::cuda
