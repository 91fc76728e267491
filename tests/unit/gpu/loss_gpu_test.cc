// CUDA elementwise losses (reduced forward, backward) against the loss_math
// functors summed on the CPU in double.
#include <vector>

#include <cuda_runtime.h>

#include "ops/loss/loss_cuda.h"
#include "ops/loss/loss_math.h"
#include "tests/unit/gpu/gpu_test_util.h"

namespace onyx::gpu_test {
namespace {

template <typename Fn>
void CheckLoss(cuda::ElementwiseLoss kind, Fn fn, float lo, float hi) {
  const int64_t n = 300007;
  Tensor x = RandomFloats({n}, lo, hi, 21);
  Tensor t = RandomFloats({n}, 0.f, 1.f, 22);
  float *dx_in, *dt, *ddx;
  double* dsum;
  ASSERT_EQ(cudaMalloc(&dx_in, n * sizeof(float)), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&dt, n * sizeof(float)), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&ddx, n * sizeof(float)), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&dsum, sizeof(double)), cudaSuccess);
  cudaMemcpy(dx_in, x.data<float>(), n * sizeof(float), cudaMemcpyHostToDevice);
  cudaMemcpy(dt, t.data<float>(), n * sizeof(float), cudaMemcpyHostToDevice);
  const double scale = 1.0 / n;  // "mean"
  ASSERT_EQ(cuda::ElementwiseLossForward(kind, dx_in, dt, n, scale, dsum, nullptr), cudaSuccess);
  ASSERT_EQ(cuda::ElementwiseLossBackward(kind, dx_in, dt, n, 0.5f, ddx, nullptr), cudaSuccess);
  double sum = 0;
  std::vector<float> dx(n);
  cudaMemcpy(&sum, dsum, sizeof(double), cudaMemcpyDeviceToHost);
  cudaMemcpy(dx.data(), ddx, n * sizeof(float), cudaMemcpyDeviceToHost);
  cudaFree(dx_in);
  cudaFree(dt);
  cudaFree(ddx);
  cudaFree(dsum);
  double expected = 0;
  for (int64_t i = 0; i < n; ++i) expected += fn.Forward(x.data<float>()[i], t.data<float>()[i]);
  expected *= scale;
  EXPECT_NEAR(sum, expected, 1e-6 * std::fabs(expected));
  int bad = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float e = 0.5f * fn.Backward(x.data<float>()[i], t.data<float>()[i]);
    if (std::fabs(dx[i] - e) > 1e-5f * std::fabs(e) + 1e-7f && bad++ < 3) {
      ADD_FAILURE() << "dx[" << i << "]: cuda " << dx[i] << " vs cpu " << e;
    }
  }
}

TEST_F(GpuTest, MseLoss) { CheckLoss(cuda::ElementwiseLoss::kMse, loss_math::MseFn{}, -3, 3); }
TEST_F(GpuTest, BceLoss) { CheckLoss(cuda::ElementwiseLoss::kBce, loss_math::BceFn{}, 0.01f, 0.99f); }
TEST_F(GpuTest, BceWithLogitsLoss) {
  CheckLoss(cuda::ElementwiseLoss::kBceWithLogits, loss_math::BceWithLogitsFn{}, -8, 8);
}

}  // namespace
}  // namespace onyx::gpu_test
