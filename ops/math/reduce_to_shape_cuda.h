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
  // math::ReduceLaunch: a thread (else a block) per output and chunk.
  bool by_thread = false;
  int64_t chunks = 1, chunk_size = 0;
};

// out[o] = sum over r of in[offset(o) + offset(r)], accumulated in double in a
// fixed order (deterministic): chunk c of the reduce range is summed by one
// thread (by_thread: adjacent threads own adjacent outputs) or by one block
// (its threads striding over the chunk, then a fixed tree); with chunks > 1
// the partials go to `scratch` (chunks * num_outputs doubles) and are added in
// chunk order. reduce_count 0 writes zeros.
cudaError_t SumToShape(const ReduceDims& dims, const float* in, float* out, double* scratch,
                       cudaStream_t stream);

}  // namespace onyx::cuda
