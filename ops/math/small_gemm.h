// The plain-loop GEMM shared by Gemm (float64, and float32 problems too small for
// a oneDNN call to pay off) and FusedGemm (small float32 problems).
#pragma once

#include <algorithm>
#include <cstdint>

namespace onyx::math {

// Below this many multiply-adds the loop beats a oneDNN matmul call (~1 us of
// fixed cost per execute on these machines: argument maps, scratchpad, jit entry).
inline constexpr int64_t kSmallGemmMaxMacs = int64_t{1} << 14;

// y[i, j] = alpha * sum_k A'(i, k) * B'(k, j), A' = A or A^T ([m, k]), B' = B or
// B^T ([k, n]), the transposes read through strides. The j loop carries no
// dependency between iterations (no reduction), so it vectorizes or at least
// issues independent multiply-adds.
template <typename T>
void GemmLoop(int64_t m, int64_t k, int64_t n, bool trans_a, bool trans_b, T alpha, const T* a,
              const T* b, T* y) {
  const int64_t a_row = trans_a ? 1 : k, a_col = trans_a ? m : 1;
  const int64_t b_row = trans_b ? 1 : n, b_col = trans_b ? k : 1;
  auto row = [&](int64_t i) {
    T* y_row = y + i * n;
    std::fill(y_row, y_row + n, T(0));
    for (int64_t kk = 0; kk < k; ++kk) {
      const T av = a[i * a_row + kk * a_col];
      const T* b_k = b + kk * b_row;
      for (int64_t j = 0; j < n; ++j) y_row[j] += av * b_k[j * b_col];
    }
    if (alpha != T(1)) {
      for (int64_t j = 0; j < n; ++j) y_row[j] *= alpha;
    }
  };
  if (m * n * k < (int64_t{1} << 15)) {  // not even an if(false) OpenMP region: it costs
    for (int64_t i = 0; i < m; ++i) row(i);
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < m; ++i) row(i);
}

}  // namespace onyx::math
