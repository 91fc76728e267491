// CUDA error codes as absl::Status (code Internal, the call named).
#pragma once

#include <cuda_runtime.h>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"

namespace onyx::cuda {

inline absl::Status CudaStatus(cudaError_t error, const char* what) {
  if (error == cudaSuccess) return absl::OkStatus();
  if (error == cudaErrorMemoryAllocation) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("%s: %s", what, cudaGetErrorString(error)));
  }
  return absl::InternalError(absl::StrFormat("%s: %s (%s)", what, cudaGetErrorString(error),
                                             cudaGetErrorName(error)));
}

// After a kernel launch: launch-configuration errors show up here at once.
inline absl::Status LastLaunchStatus(const char* kernel) {
  return CudaStatus(cudaGetLastError(), kernel);
}

}  // namespace onyx::cuda
