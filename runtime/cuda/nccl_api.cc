#include "runtime/cuda/nccl_api.h"

#include <dlfcn.h>

#include <fstream>
#include <string>

#include "absl/strings/str_format.h"

namespace onyx::cuda {
namespace {

// The soname of the NCCL these headers belong to, e.g. libnccl.so.2.
std::string NcclSoname() { return absl::StrFormat("libnccl.so.%d", NCCL_MAJOR); }

// The loader's search path first, then the toolkit folder this binary was built against.
void* OpenNccl(std::string* error) {
  const std::string soname = NcclSoname();
  if (void* handle = dlopen(soname.c_str(), RTLD_NOW | RTLD_LOCAL)) return handle;
  *error = dlerror();
#ifdef ONYX_NCCL_DIR
  const std::string in_toolkit = std::string(ONYX_NCCL_DIR) + "/" + soname;
  if (void* handle = dlopen(in_toolkit.c_str(), RTLD_NOW | RTLD_LOCAL)) return handle;
  *error += std::string("; ") + dlerror();
#endif
  return nullptr;
}

template <typename Fn>
void Resolve(void* library, const char* symbol, Fn* fn, std::string* missing) {
  *fn = reinterpret_cast<Fn>(dlsym(library, symbol));
  if (*fn == nullptr) *missing += absl::StrFormat(" %s", symbol);
}

absl::StatusOr<NcclApi> OpenApi() {
  std::string error;
  void* library = OpenNccl(&error);
  if (library == nullptr) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "cannot load %s (needed to reduce gradients across GPUs): %s", NcclSoname(), error));
  }
  NcclApi api;
  std::string missing;
  Resolve(library, "ncclGetUniqueId", &api.get_unique_id, &missing);
  Resolve(library, "ncclCommInitRank", &api.comm_init_rank, &missing);
  Resolve(library, "ncclCommDestroy", &api.comm_destroy, &missing);
  Resolve(library, "ncclAllReduce", &api.all_reduce, &missing);
  Resolve(library, "ncclGroupStart", &api.group_start, &missing);
  Resolve(library, "ncclGroupEnd", &api.group_end, &missing);
  Resolve(library, "ncclGetErrorString", &api.error_string, &missing);
  if (!missing.empty()) {
    return absl::FailedPreconditionError(
        absl::StrFormat("%s lacks the entry points:%s", NcclSoname(), missing));
  }
  return api;  // the library stays open for the life of the process
}

}  // namespace

absl::StatusOr<const NcclApi*> LoadNccl() {
  static const absl::StatusOr<NcclApi>* const api = new absl::StatusOr<NcclApi>(OpenApi());
  if (!api->ok()) return api->status();
  return &**api;
}

bool NcclMapped() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    if (line.find("libnccl") != std::string::npos) return true;
  }
  return false;
}

absl::Status NcclStatus(ncclResult_t result, const char* what) {
  if (result == ncclSuccess) return absl::OkStatus();
  absl::StatusOr<const NcclApi*> api = LoadNccl();
  const std::string reason = api.ok() ? (*api)->error_string(result)
                                      : absl::StrFormat("NCCL result %d", result);
  return absl::InternalError(absl::StrFormat("%s: %s", what, reason));
}

}  // namespace onyx::cuda
