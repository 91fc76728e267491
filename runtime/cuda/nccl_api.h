// NCCL entry points, opened with dlopen on first use (as cublas_api.h does for
// cuBLAS): only a process that reduces gradients across GPUs maps libnccl;
// CPU-only and single-process runs never do.
#pragma once

#include <nccl.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace onyx::cuda {

struct NcclApi {
  decltype(&ncclGetUniqueId) get_unique_id = nullptr;
  decltype(&ncclCommInitRank) comm_init_rank = nullptr;
  decltype(&ncclCommDestroy) comm_destroy = nullptr;
  decltype(&ncclAllReduce) all_reduce = nullptr;
  decltype(&ncclGroupStart) group_start = nullptr;
  decltype(&ncclGroupEnd) group_end = nullptr;
  decltype(&ncclGetErrorString) error_string = nullptr;
};

// Opens libnccl once per process (thread-safe) and resolves every entry point;
// FailedPrecondition naming the library and the loader's reason when it cannot.
absl::StatusOr<const NcclApi*> LoadNccl();

// Whether libnccl is mapped into this process (read from /proc/self/maps).
bool NcclMapped();

// An NCCL result as absl::Status (code Internal, the call named).
absl::Status NcclStatus(ncclResult_t result, const char* what);

}  // namespace onyx::cuda
