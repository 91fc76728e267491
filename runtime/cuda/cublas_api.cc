#include "runtime/cuda/cublas_api.h"

#include <string>

#include "absl/strings/str_format.h"
#include "runtime/cuda/shared_library.h"
#include "runtime/status_macros.h"

namespace onyx::cuda {
namespace {

#ifdef ONYX_CUBLAS_DIR
constexpr const char* kCublasDir = ONYX_CUBLAS_DIR;
#else
constexpr const char* kCublasDir = nullptr;
#endif

absl::StatusOr<CublasApi> OpenApi() {
  // The soname of the major version these headers belong to.
  ONYX_ASSIGN_OR_RETURN(SharedLibrary library,
                        SharedLibrary::Open(absl::StrFormat("libcublas.so.%d", CUBLAS_VER_MAJOR),
                                            kCublasDir, "MatMul/Gemm on CUDA"));
  CublasApi api;
  library.Resolve("cublasCreate_v2", &api.create);
  library.Resolve("cublasDestroy_v2", &api.destroy);
  library.Resolve("cublasSetStream_v2", &api.set_stream);
  library.Resolve("cublasSgemmStridedBatched", &api.sgemm_strided_batched);
  library.Resolve("cublasGetStatusString", &api.status_string);
  ONYX_RETURN_IF_ERROR(library.Check());
  return api;  // the library stays open for the life of the process
}

}  // namespace

absl::StatusOr<const CublasApi*> LoadCublas() {
  static const absl::StatusOr<CublasApi>* const api = new absl::StatusOr<CublasApi>(OpenApi());
  if (!api->ok()) return api->status();
  return &**api;
}

bool CublasMapped() { return LibraryMapped("libcublas"); }

absl::Status CublasStatus(cublasStatus_t status, const char* what) {
  if (status == CUBLAS_STATUS_SUCCESS) return absl::OkStatus();
  absl::StatusOr<const CublasApi*> api = LoadCublas();
  const std::string reason =
      api.ok() ? (*api)->status_string(status) : absl::StrFormat("cuBLAS status %d", status);
  return absl::InternalError(absl::StrFormat("%s: %s", what, reason));
}

}  // namespace onyx::cuda
