// Launcher of the CUDA Cast kernel.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "runtime/data_type.h"

namespace onyx::cuda {

// True when CastElements takes `from` -> `to`: float32, float64, float16,
// bfloat16, int8, uint8, int32, int64 and bool, any pair.
bool CastSupported(DataType from, DataType to);

// y[i] = x[i] converted as the CPU Cast kernel does (cast_cpu.cc): float ->
// integer truncates, NaN gives 0 and values beyond int64 saturate before
// narrower integers wrap; 16-bit floats round to nearest even through float.
// cudaErrorInvalidValue for pairs CastSupported rejects.
cudaError_t CastElements(DataType from, DataType to, const void* x, void* y, int64_t n,
                         cudaStream_t stream);

}  // namespace onyx::cuda
