// CUDA activation kernels, forward and backward, against the CPU kernels, on
// sizes that exercise the float4 body, the scalar tail and unaligned views.
#include <cmath>
#include <string>
#include <vector>

#include <cuda_runtime.h>

#include "ops/activation/activation_cuda.h"
#include "ops/activation/activation_math.h"
#include "tests/unit/gpu/gpu_test_util.h"

namespace onyx::gpu_test {
namespace {

using testing_util::FloatAttr;
using testing_util::StringAttr;

struct ActCase {
  std::string op;
  std::vector<Attribute> attrs;
  int64_t opset;
  bool grad_reads_output;  // the Grad op's second input is Y (else X)
};

std::vector<ActCase> Cases() {
  return {
      {"Relu", {}, 14, true},
      {"LeakyRelu", {FloatAttr("alpha", 0.1f)}, 16, false},
      {"Sigmoid", {}, 13, true},
      {"Tanh", {}, 13, true},
      {"Softplus", {}, 1, false},
      {"Elu", {FloatAttr("alpha", 0.7f)}, 6, false},
      {"Selu", {}, 6, false},
      {"Celu", {FloatAttr("alpha", 1.5f)}, 12, false},
      {"Gelu", {}, 20, false},
      {"Gelu", {StringAttr("approximate", "tanh")}, 20, false},
      {"Mish", {}, 18, false},
      {"HardSigmoid", {}, 6, false},
      {"HardSwish", {}, 14, false},
      {"Swish", {FloatAttr("alpha", 1.3f)}, 24, false},
      {"ThresholdedRelu", {FloatAttr("alpha", 0.5f)}, 10, false},
  };
}

std::string CaseName(const ::testing::TestParamInfo<ActCase>& info) {
  return info.param.op + (info.param.attrs.empty() ? "" : "_attr") + std::to_string(info.index);
}

class ActivationGpuTest : public GpuParamTest<ActCase> {};

TEST_P(ActivationGpuTest, ForwardMatchesCpu) {
  const ActCase& c = GetParam();
  for (const Shape& shape : {Shape{}, Shape{3, 5}, Shape{1000003}, Shape{0, 4}}) {
    Tensor x = RandomFloats(shape, -9.f, 9.f, 7);
    ASSERT_OK_AND_ASSIGN(Tensor cpu, RunNode(c.op, c.attrs, {x}, c.opset, Device::kCpu));
    ASSERT_OK_AND_ASSIGN(Tensor gpu, RunNode(c.op, c.attrs, {x}, c.opset, Device::kCuda));
    // oneDNN's CPU eltwise and CUDA's libdevice differ by a few ulps.
    EXPECT_TRUE(AllClose<float>(gpu, cpu, 1e-4, 1e-5)) << ShapeToString(shape);
  }
}

TEST_P(ActivationGpuTest, BackwardMatchesCpu) {
  const ActCase& c = GetParam();
  const Shape shape = {1000003};
  Tensor x = RandomFloats(shape, -9.f, 9.f, 11);
  Tensor dy = RandomFloats(shape, -2.f, 2.f, 12);
  Tensor saved = x;
  if (c.grad_reads_output) {
    ASSERT_OK_AND_ASSIGN(saved, RunNode(c.op, c.attrs, {x}, c.opset, Device::kCpu));
  }
  const std::string grad = c.op + "Grad";
  ASSERT_OK_AND_ASSIGN(Tensor cpu,
                       RunNode(grad, c.attrs, {dy, saved}, c.opset, Device::kCpu, kOnyxDomain));
  ASSERT_OK_AND_ASSIGN(Tensor gpu,
                       RunNode(grad, c.attrs, {dy, saved}, c.opset, Device::kCuda, kOnyxDomain));
  EXPECT_TRUE(AllClose<float>(gpu, cpu, 1e-4, 1e-5));
}

INSTANTIATE_TEST_SUITE_P(All, ActivationGpuTest, ::testing::ValuesIn(Cases()), CaseName);

// float64 has no CUDA activation kernel: the session runs the CPU one.
TEST_F(GpuTest, DoubleActivationFallsBackToCpu) {
  std::vector<double> v = {-2, -0.5, 0, 0.5, 2};
  ASSERT_OK_AND_ASSIGN(Tensor x, Tensor::FromVector<double>({5}, v));
  ASSERT_OK_AND_ASSIGN(Tensor gpu, RunNode("Tanh", {}, {x}, 13, Device::kCuda));
  for (int i = 0; i < 5; ++i) EXPECT_DOUBLE_EQ(gpu.data<double>()[i], std::tanh(v[i]));
}

// The launcher on views that are not 16-byte aligned (scalar kernel) and an
// in-place call, against the functor evaluated on the host in double.
TEST_F(GpuTest, UnalignedAndInPlaceLaunches) {
  const int64_t n = 4099;
  Tensor x = RandomFloats({n + 1}, -6.f, 6.f, 3);
  float* d = nullptr;
  ASSERT_EQ(cudaMalloc(&d, (n + 1) * sizeof(float)), cudaSuccess);
  ASSERT_EQ(cudaMemcpy(d, x.data<float>(), (n + 1) * sizeof(float), cudaMemcpyHostToDevice),
            cudaSuccess);
  cuda::ActivationParams mish{cuda::Activation::kMish};
  ASSERT_EQ(cuda::ActivationForward(mish, d + 1, d + 1, n, nullptr), cudaSuccess);
  std::vector<float> y(n);
  ASSERT_EQ(cudaMemcpy(y.data(), d + 1, n * sizeof(float), cudaMemcpyDeviceToHost), cudaSuccess);
  cudaFree(d);
  for (int64_t i = 0; i < n; ++i) {
    const double xi = x.data<float>()[i + 1];
    const double expected = MishFn{}.Forward(xi);
    EXPECT_NEAR(y[i], expected, 1e-5 + 1e-5 * std::fabs(expected)) << "x = " << xi;
  }
}

// Every launch shape the benchmark sweeps (unroll, block size, grid cap)
// computes the same values: Swish forward and Sigmoid backward (which reads y)
// against the functors evaluated on the host in double, on a size with
// leftover float4s and a scalar tail.
TEST_F(GpuTest, EveryLaunchShapeAgrees) {
  const int64_t n = 4 * 1543 + 3;
  Tensor x = RandomFloats({n}, -6.f, 6.f, 5);
  Tensor dy = RandomFloats({n}, -2.f, 2.f, 6);
  const size_t bytes = n * sizeof(float);
  float *d_x = nullptr, *d_dy = nullptr, *d_out = nullptr;
  ASSERT_EQ(cudaMalloc(&d_x, bytes), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&d_dy, bytes), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&d_out, bytes), cudaSuccess);
  ASSERT_EQ(cudaMemcpy(d_x, x.data<float>(), bytes, cudaMemcpyHostToDevice), cudaSuccess);
  ASSERT_EQ(cudaMemcpy(d_dy, dy.data<float>(), bytes, cudaMemcpyHostToDevice), cudaSuccess);
  const cuda::ActivationParams swish{cuda::Activation::kSwish, 1.3f};
  const cuda::ActivationParams sigmoid{cuda::Activation::kSigmoid};
  std::vector<float> out(n);
  for (int unroll : {1, 2, 4}) {
    for (int threads : {32, 1024}) {
      for (int blocks_per_sm : {0, 1}) {
        const cuda::LaunchShape shape{unroll, threads, blocks_per_sm};
        SCOPED_TRACE(::testing::Message() << "unroll " << unroll << ", threads " << threads
                                          << ", blocks/SM " << blocks_per_sm);
        ASSERT_EQ(cuda::ActivationForward(swish, d_x, d_out, n, nullptr, shape), cudaSuccess);
        ASSERT_EQ(cudaMemcpy(out.data(), d_out, bytes, cudaMemcpyDeviceToHost), cudaSuccess);
        for (int64_t i = 0; i < n; ++i) {
          const double expected = SwishFn{1.3f}.Forward(double{x.data<float>()[i]});
          ASSERT_NEAR(out[i], expected, 1e-5 + 1e-5 * std::fabs(expected)) << i;
        }
        ASSERT_EQ(cuda::ActivationBackward(sigmoid, d_dy, d_x, d_out, n, nullptr, shape),
                  cudaSuccess);
        ASSERT_EQ(cudaMemcpy(out.data(), d_out, bytes, cudaMemcpyDeviceToHost), cudaSuccess);
        for (int64_t i = 0; i < n; ++i) {
          const double expected =
              SigmoidFn{}.Backward(double{dy.data<float>()[i]}, double{x.data<float>()[i]});
          ASSERT_NEAR(out[i], expected, 1e-5 + 1e-5 * std::fabs(expected)) << i;
        }
      }
    }
  }
  // Shapes out of range are refused, not launched.
  for (const cuda::LaunchShape& bad :
       {cuda::LaunchShape{3, 256, 0}, cuda::LaunchShape{4, 100, 0}, cuda::LaunchShape{4, 2048, 0},
        cuda::LaunchShape{4, 256, -1}}) {
    EXPECT_EQ(cuda::ActivationForward(swish, d_x, d_out, n, nullptr, bad), cudaErrorInvalidValue);
  }
  cudaFree(d_x);
  cudaFree(d_dy);
  cudaFree(d_out);
}

}  // namespace
}  // namespace onyx::gpu_test
