#include "runtime/cuda/cublas_api.h"

#include <dlfcn.h>

#include <fstream>
#include <string>

#include "absl/strings/str_format.h"

namespace onyx::cuda {
namespace {

// The soname of the cuBLAS these headers belong to, e.g. libcublas.so.13.
std::string CublasSoname() { return absl::StrFormat("libcublas.so.%d", CUBLAS_VER_MAJOR); }

// The loader's search path first (LD_LIBRARY_PATH, ld.so.cache), then the
// toolkit folder this binary was built against.
void* OpenCublas(std::string* error) {
  const std::string soname = CublasSoname();
  if (void* handle = dlopen(soname.c_str(), RTLD_NOW | RTLD_LOCAL)) return handle;
  *error = dlerror();
#ifdef ONYX_CUBLAS_DIR
  const std::string in_toolkit = std::string(ONYX_CUBLAS_DIR) + "/" + soname;
  if (void* handle = dlopen(in_toolkit.c_str(), RTLD_NOW | RTLD_LOCAL)) return handle;
  *error += std::string("; ") + dlerror();
#endif
  return nullptr;
}

template <typename Fn>
bool Resolve(void* library, const char* symbol, Fn* fn, std::string* missing) {
  *fn = reinterpret_cast<Fn>(dlsym(library, symbol));
  if (*fn == nullptr) *missing += absl::StrFormat(" %s", symbol);
  return *fn != nullptr;
}

absl::StatusOr<CublasApi> OpenApi() {
  std::string error;
  void* library = OpenCublas(&error);
  if (library == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrFormat("cannot load %s (needed for MatMul/Gemm on CUDA): %s", CublasSoname(),
                        error));
  }
  CublasApi api;
  std::string missing;
  Resolve(library, "cublasCreate_v2", &api.create, &missing);
  Resolve(library, "cublasDestroy_v2", &api.destroy, &missing);
  Resolve(library, "cublasSetStream_v2", &api.set_stream, &missing);
  Resolve(library, "cublasSgemmStridedBatched", &api.sgemm_strided_batched, &missing);
  Resolve(library, "cublasGetStatusString", &api.status_string, &missing);
  if (!missing.empty()) {
    return absl::FailedPreconditionError(
        absl::StrFormat("%s lacks the entry points:%s", CublasSoname(), missing));
  }
  return api;  // the library stays open for the life of the process
}

}  // namespace

absl::StatusOr<const CublasApi*> LoadCublas() {
  static const absl::StatusOr<CublasApi>* const api = new absl::StatusOr<CublasApi>(OpenApi());
  if (!api->ok()) return api->status();
  return &**api;
}

bool CublasMapped() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    if (line.find("libcublas") != std::string::npos) return true;
  }
  return false;
}

absl::Status CublasStatus(cublasStatus_t status, const char* what) {
  if (status == CUBLAS_STATUS_SUCCESS) return absl::OkStatus();
  absl::StatusOr<const CublasApi*> api = LoadCublas();
  const std::string reason = api.ok() ? (*api)->status_string(status)
                                      : absl::StrFormat("cuBLAS status %d", status);
  return absl::InternalError(absl::StrFormat("%s: %s", what, reason));
}

}  // namespace onyx::cuda
