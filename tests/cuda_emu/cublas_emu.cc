// The cuBLAS entry points Onyx opens (runtime/cuda/cublas_api.h), emulated on the
// host and built as libcublas.so.<major> beside the emulated runtime, where
// Onyx's dlopen finds it first. A plain column-major loop with double sums:
// slow, but an independent check of the leading dimensions and strides.
#include <cublas_v2.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "tests/cuda_emu/emu_runtime.h"

struct cublasContext {
  cudaStream_t stream = nullptr;
};

namespace {

// Elements spanned by a column-major rows x cols matrix with leading dimension ld.
long long Span(int rows, int cols, int ld) {
  return rows == 0 || cols == 0 ? 0 : static_cast<long long>(cols - 1) * ld + rows;
}

void RequireDevice(const char* name, const float* data, long long elements, long long stride,
                   int batch) {
  if (elements == 0) return;
  const long long total = elements + static_cast<long long>(batch - 1) * stride;
  if (!onyx_emu::IsDeviceRange(data, static_cast<size_t>(total) * sizeof(float))) {
    std::fprintf(stderr,
                 "onyx CUDA emulator: cublasSgemmStridedBatched: %s (%lld floats) is not inside "
                 "one device allocation\n",
                 name, total);
    std::abort();
  }
}

}  // namespace

cublasStatus_t cublasCreate_v2(cublasHandle_t* handle) {
  if (handle == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
  *handle = new cublasContext;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDestroy_v2(cublasHandle_t handle) {
  if (handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  delete handle;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetStream_v2(cublasHandle_t handle, cudaStream_t stream) {
  if (handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!onyx_emu::IsValidStream(stream)) return CUBLAS_STATUS_INVALID_VALUE;
  handle->stream = stream;
  return CUBLAS_STATUS_SUCCESS;
}

const char* cublasGetStatusString(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS: return "the operation completed successfully";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "the library was not initialized";
    case CUBLAS_STATUS_INVALID_VALUE: return "an invalid numeric value was used as an argument";
    default: return "unknown cuBLAS status";
  }
}

cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t handle, cublasOperation_t transa,
                                         cublasOperation_t transb, int m, int n, int k,
                                         const float* alpha, const float* a, int lda,
                                         long long stride_a, const float* b, int ldb,
                                         long long stride_b, const float* beta, float* c, int ldc,
                                         long long stride_c, int batch) {
  if (handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  const bool ta = transa != CUBLAS_OP_N;
  const bool tb = transb != CUBLAS_OP_N;
  if (m < 0 || n < 0 || k < 0 || batch < 0 || alpha == nullptr || beta == nullptr ||
      lda < std::max(1, ta ? k : m) || ldb < std::max(1, tb ? n : k) || ldc < std::max(1, m)) {
    return CUBLAS_STATUS_INVALID_VALUE;
  }
  if (m == 0 || n == 0 || batch == 0) return CUBLAS_STATUS_SUCCESS;
  RequireDevice("A", a, k == 0 ? 0 : (ta ? Span(k, m, lda) : Span(m, k, lda)), stride_a, batch);
  RequireDevice("B", b, k == 0 ? 0 : (tb ? Span(n, k, ldb) : Span(k, n, ldb)), stride_b, batch);
  RequireDevice("C", c, Span(m, n, ldc), stride_c, batch);
  onyx_emu::DeviceAccess access;
  for (int p = 0; p < batch; ++p) {
    const float* ap = a + p * stride_a;
    const float* bp = b + p * stride_b;
    float* cp = c + p * stride_c;
    for (int j = 0; j < n; ++j) {
      for (int i = 0; i < m; ++i) {
        double sum = 0;
        for (int l = 0; l < k; ++l) {
          const float av = ta ? ap[l + static_cast<long long>(i) * lda]
                              : ap[i + static_cast<long long>(l) * lda];
          const float bv = tb ? bp[j + static_cast<long long>(l) * ldb]
                              : bp[l + static_cast<long long>(j) * ldb];
          sum += static_cast<double>(av) * bv;
        }
        float& out = cp[i + static_cast<long long>(j) * ldc];
        // beta == 0 ignores C, NaNs included, as cuBLAS does.
        const double scaled = *alpha * sum;
        out = static_cast<float>(*beta == 0.f ? scaled : scaled + *beta * static_cast<double>(out));
      }
    }
  }
  return CUBLAS_STATUS_SUCCESS;
}
