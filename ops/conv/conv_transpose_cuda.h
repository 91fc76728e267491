// The copy the cuDNN ConvTranspose kernel needs when cuDNN's convolution view
// has other spatial extents than Y (conv_cuda_mapping.h): Y gets the leading
// block of the scratch result, zeros where Y reaches past it. Plain C++ so
// host code can call it.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace onyx::cuda {

// [planes, d0, d1, d2] extents of the source and destination (spatial dims
// right-aligned into 3 slots, leading slots 1).
struct BlockCopyDims {
  int64_t planes = 0;
  int64_t src[3] = {1, 1, 1};
  int64_t dst[3] = {1, 1, 1};
};

// dst[p, i0, i1, i2] = src[p, i0, i1, i2] where every i_k < src[k], else 0.
cudaError_t CopyLeadingBlock(const BlockCopyDims& dims, const float* src, float* dst,
                             cudaStream_t stream);

}  // namespace onyx::cuda
