// Launcher of the CUDA gradient sum over broadcast dims (ReduceToShape), over
// the merged dims of math::ReducePlan (cuda_plans.h). Plain C++ for nvcc.
#pragma once

#include <cstdint>

#include <cuda_runtime.h>

namespace onyx::cuda {

struct ReduceDims {
  static constexpr int kMaxDims = 6;  // per kind, after merging
  int num_kept = 0, num_reduced = 0;
  int64_t kept_size[kMaxDims], kept_stride[kMaxDims];
  int64_t reduced_size[kMaxDims], reduced_stride[kMaxDims];
  int64_t num_outputs = 1, reduce_count = 1;
  bool inner_kept = false;  // the input's stride-1 dim is an output dim
};

// out[o] = sum over r of in[offset(o) + offset(r)], accumulated in double in a
// fixed order (deterministic). With inner_kept and many outputs, one thread
// per output (adjacent threads read adjacent inputs); otherwise one block per
// output, its threads striding over r, then a fixed tree. reduce_count 0
// writes zeros.
cudaError_t SumToShape(const ReduceDims& dims, const float* in, float* out, cudaStream_t stream);

}  // namespace onyx::cuda
