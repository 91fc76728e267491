// cuBLAS entry points, opened with dlopen on first use.
//
// Why not link libcublas: loading it (and the libcublasLt it needs) costs every
// process about 150 MiB of resident memory for relocations, CPU-only runs included.
// Opened lazily, only a session that runs a cuBLAS kernel pays for it.
#pragma once

#include <cublas_v2.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace onyx::cuda {

struct CublasApi {
  decltype(&cublasCreate_v2) create = nullptr;
  decltype(&cublasDestroy_v2) destroy = nullptr;
  decltype(&cublasSetStream_v2) set_stream = nullptr;
  decltype(&cublasSgemmStridedBatched) sgemm_strided_batched = nullptr;
  decltype(&cublasGetStatusString) status_string = nullptr;
};

// Opens libcublas once per process (thread-safe) and resolves every entry point;
// FailedPrecondition naming the library and the loader's reason when it cannot.
absl::StatusOr<const CublasApi*> LoadCublas();

// Whether libcublas is mapped into this process (read from /proc/self/maps).
bool CublasMapped();

// A cuBLAS status as absl::Status (code Internal, the call named).
absl::Status CublasStatus(cublasStatus_t status, const char* what);

}  // namespace onyx::cuda
