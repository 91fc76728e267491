#include "runtime/cuda/nccl_api.h"

#include <string>

#include "absl/strings/str_format.h"
#include "runtime/cuda/shared_library.h"
#include "runtime/status_macros.h"

namespace onyx::cuda {
namespace {

#ifdef ONYX_NCCL_DIR
constexpr const char* kNcclDir = ONYX_NCCL_DIR;
#else
constexpr const char* kNcclDir = nullptr;
#endif

absl::StatusOr<NcclApi> OpenApi() {
  // The soname of the major version these headers belong to.
  ONYX_ASSIGN_OR_RETURN(SharedLibrary library,
                        SharedLibrary::Open(absl::StrFormat("libnccl.so.%d", NCCL_MAJOR), kNcclDir,
                                            "the gradient allreduce across GPUs"));
  NcclApi api;
  library.Resolve("ncclGetUniqueId", &api.get_unique_id);
  library.Resolve("ncclCommInitRank", &api.comm_init_rank);
  library.Resolve("ncclCommDestroy", &api.comm_destroy);
  library.Resolve("ncclAllReduce", &api.all_reduce);
  library.Resolve("ncclGroupStart", &api.group_start);
  library.Resolve("ncclGroupEnd", &api.group_end);
  library.Resolve("ncclGetErrorString", &api.error_string);
  ONYX_RETURN_IF_ERROR(library.Check());
  return api;  // the library stays open for the life of the process
}

}  // namespace

absl::StatusOr<const NcclApi*> LoadNccl() {
  static const absl::StatusOr<NcclApi>* const api = new absl::StatusOr<NcclApi>(OpenApi());
  if (!api->ok()) return api->status();
  return &**api;
}

bool NcclMapped() { return LibraryMapped("libnccl"); }

absl::Status NcclStatus(ncclResult_t result, const char* what) {
  if (result == ncclSuccess) return absl::OkStatus();
  absl::StatusOr<const NcclApi*> api = LoadNccl();
  const std::string reason =
      api.ok() ? (*api)->error_string(result) : absl::StrFormat("NCCL result %d", result);
  return absl::InternalError(absl::StrFormat("%s: %s", what, reason));
}

}  // namespace onyx::cuda
