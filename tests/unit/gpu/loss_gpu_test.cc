// CUDA loss kernels against the CPU kernels: the elementwise losses (MseLoss,
// BceLoss, BceWithLogitsLoss) and the class-index losses (SoftmaxCrossEntropyLoss
// 12/13, NegativeLogLikelihoodLoss 12/13/22, CrossEntropyLoss) with their Grad
// ops, over every reduction, class weights, ignore_index, label_smoothing,
// int32/int64 labels and [N, C] / [N, C, d...] shapes that pick each row
// grouping (thread, warp, block per row; contiguous or strided classes). Also
// the launchers alone, determinism, errors (bad labels, BceLoss's domain) and
// the float64 fallback to the CPU kernels.
#include <cuda_runtime.h>

#include <cmath>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ops/loss/loss_cuda.h"
#include "ops/loss/loss_math.h"
#include "tests/unit/gpu/loss_gpu_util.h"

namespace onyx::gpu_test {
namespace {

using testing_util::NodeSpec;
using testing_util::StringAttr;

// Runs one node over inputs x0, x1, ... on the CPU and on CUDA; the CUDA run
// must have used the CUDA kernel unless `expect_device` is false.
struct BothRuns {
  std::vector<Tensor> cpu, gpu;
};

absl::StatusOr<BothRuns> RunBoth(const NodeSpec& spec, const std::vector<Tensor>& inputs,
                                 bool expect_device = true) {
  const Graph graph = testing_util::OneNodeGraph(spec, inputs);
  const NamedTensors feeds = testing_util::InputFeeds(inputs);
  BothRuns runs;
  auto cpu = RunLossGraph(graph, feeds, Device::kCpu);
  if (!cpu.ok()) return cpu.status();
  runs.cpu = *std::move(cpu);
  LossNodeObserver observer;
  auto gpu = RunLossGraph(graph, feeds, Device::kCuda, &observer);
  if (!gpu.ok()) return gpu.status();
  runs.gpu = *std::move(gpu);
  EXPECT_EQ(observer.loss_nodes, 1);
  EXPECT_EQ(observer.all_on_device, expect_device) << spec.op_type;
  return runs;
}

Tensor Scalar(float v) { return *Tensor::FromVector<float>({}, std::vector<float>{v}); }

// ---- the launchers alone --------------------------------------------------

template <typename Fn>
void CheckLaunchers(cuda::ElementwiseLoss kind, Fn fn, float lo, float hi) {
  const int64_t n = 300007;
  Tensor x = RandomFloats({n}, lo, hi, 21);
  Tensor t = RandomFloats({n}, 0.f, 1.f, 22);
  const int blocks = cuda::ElementwiseLossBlocks(n);
  float *dx_in, *dt, *ddx, *dloss, *dg;
  double* scratch;
  int64_t* bad;
  ASSERT_EQ(cudaMalloc(&dx_in, n * sizeof(float)), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&dt, n * sizeof(float)), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&ddx, n * sizeof(float)), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&dloss, 2 * sizeof(float)), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&dg, sizeof(float)), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&scratch, blocks * sizeof(double)), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&bad, sizeof(int64_t)), cudaSuccess);
  cudaMemcpy(dx_in, x.data<float>(), n * sizeof(float), cudaMemcpyHostToDevice);
  cudaMemcpy(dt, t.data<float>(), n * sizeof(float), cudaMemcpyHostToDevice);
  const float g = 0.5f;
  cudaMemcpy(dg, &g, sizeof(float), cudaMemcpyHostToDevice);
  // Mean twice: the sums must agree to the bit (fixed summation order).
  ASSERT_EQ(cuda::ElementwiseLossForwardReduced(kind, dx_in, dt, n, double(n), dloss, scratch, bad,
                                                nullptr),
            cudaSuccess);
  ASSERT_EQ(cuda::ElementwiseLossForwardReduced(kind, dx_in, dt, n, double(n), dloss + 1, scratch,
                                                bad, nullptr),
            cudaSuccess);
  ASSERT_EQ(cuda::ElementwiseLossBackward(kind, dx_in, dt, n, dg, false, 1.0, ddx, nullptr),
            cudaSuccess);
  float mean[2] = {0, 0};
  std::vector<float> dx(n);
  cudaMemcpy(mean, dloss, 2 * sizeof(float), cudaMemcpyDeviceToHost);
  cudaMemcpy(dx.data(), ddx, n * sizeof(float), cudaMemcpyDeviceToHost);
  for (void* p : std::vector<void*>{dx_in, dt, ddx, dloss, dg, scratch, bad}) cudaFree(p);
  double expected = 0;
  for (int64_t i = 0; i < n; ++i) expected += fn.Forward(x.data<float>()[i], t.data<float>()[i]);
  expected /= n;
  EXPECT_NEAR(mean[0], expected, 1e-6 * std::fabs(expected));
  EXPECT_EQ(mean[0], mean[1]);
  int bad_count = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float e = 0.5f * fn.Backward(x.data<float>()[i], t.data<float>()[i]);
    if (std::fabs(dx[i] - e) > 1e-5f * std::fabs(e) + 1e-7f && bad_count++ < 3) {
      ADD_FAILURE() << "dx[" << i << "]: cuda " << dx[i] << " vs cpu " << e;
    }
  }
}

TEST_F(GpuTest, MseLossLaunchers) {
  CheckLaunchers(cuda::ElementwiseLoss::kMse, loss_math::MseFn{}, -3, 3);
}
TEST_F(GpuTest, BceLossLaunchers) {
  CheckLaunchers(cuda::ElementwiseLoss::kBce, loss_math::BceFn{}, 0.01f, 0.99f);
}
TEST_F(GpuTest, BceWithLogitsLossLaunchers) {
  CheckLaunchers(cuda::ElementwiseLoss::kBceWithLogits, loss_math::BceWithLogitsFn{}, -8, 8);
}

// ---- elementwise losses through the session -------------------------------

struct ElementwiseCase {
  std::string op;
  Shape shape;
  std::string reduction;
};

std::vector<ElementwiseCase> ElementwiseCases() {
  std::vector<ElementwiseCase> cases;
  for (const char* op : {"MseLoss", "BceLoss", "BceWithLogitsLoss"}) {
    for (const Shape& shape : {Shape{7}, Shape{3, 5, 11}, Shape{300007}, Shape{0, 3}}) {
      for (const char* red : {"none", "sum", "mean"}) cases.push_back({op, shape, red});
    }
  }
  return cases;
}

std::string ShapeName(const Shape& s) { return s.empty() ? "scalar" : absl::StrJoin(s, "x"); }

void PrintTo(const ElementwiseCase& c, std::ostream* os) {
  *os << c.op << " " << ShapeName(c.shape) << " " << c.reduction;
}

class ElementwiseLossGpuTest : public GpuParamTest<ElementwiseCase> {};

TEST_P(ElementwiseLossGpuTest, ForwardAndBackwardMatchCpu) {
  const ElementwiseCase& c = GetParam();
  const bool probabilities = c.op == "BceLoss";
  Tensor x = RandomFloats(c.shape, probabilities ? 0.01f : -4.f, probabilities ? 0.99f : 4.f, 31);
  Tensor t = RandomFloats(c.shape, 0.f, 1.f, 32);
  const std::vector<Attribute> attrs = {StringAttr("reduction", c.reduction)};
  NodeSpec fwd{.op_type = c.op, .domain = kOnyxDomain, .attrs = attrs};
  ASSERT_OK_AND_ASSIGN(BothRuns f, RunBoth(fwd, {x, t}));
  EXPECT_TRUE(AllClose<float>(f.gpu[0], f.cpu[0], 1e-5, 1e-6));
  Tensor dloss = c.reduction == "none" ? RandomFloats(c.shape, -1.f, 1.f, 33) : Scalar(0.75f);
  NodeSpec bwd{.op_type = c.op + "Grad", .domain = kOnyxDomain, .attrs = attrs};
  ASSERT_OK_AND_ASSIGN(BothRuns b, RunBoth(bwd, {dloss, x, t}));
  // BceWithLogits' backward is sigmoid(x) - t: the device's expf may differ
  // from glibc's by an ulp of sigmoid (~1e-7) however small the difference is.
  EXPECT_TRUE(AllClose<float>(b.gpu[0], b.cpu[0], 1e-5, 1e-6));
}

INSTANTIATE_TEST_SUITE_P(All, ElementwiseLossGpuTest, ::testing::ValuesIn(ElementwiseCases()),
                         [](const auto& info) {
                           return absl::StrCat(info.param.op, "_", ShapeName(info.param.shape), "_",
                                               info.param.reduction);
                         });

TEST_F(GpuTest, BceLossDomainErrorMatchesCpu) {
  Tensor x = RandomFloats({5000}, 0.1f, 0.9f, 3);
  x.data<float>()[4321] = 1.5f;
  x.data<float>()[4400] = -0.5f;
  Tensor t = RandomFloats({5000}, 0.f, 1.f, 4);
  for (const char* red : {"none", "mean"}) {
    const Graph g = testing_util::OneNodeGraph(
        NodeSpec{
            .op_type = "BceLoss", .domain = kOnyxDomain, .attrs = {StringAttr("reduction", red)}},
        {x, t});
    auto cpu = RunLossGraph(g, testing_util::InputFeeds({x, t}), Device::kCpu);
    auto gpu = RunLossGraph(g, testing_util::InputFeeds({x, t}), Device::kCuda);
    ASSERT_FALSE(cpu.ok());
    ASSERT_FALSE(gpu.ok());
    EXPECT_EQ(gpu.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(gpu.status().message(), cpu.status().message());
  }
}

TEST_F(GpuTest, ElementwiseLossFloat64FallsBackToCpu) {
  std::vector<double> v = {0.2, 0.7, 0.4}, w = {0.0, 1.0, 0.5};
  Tensor x = *Tensor::FromVector<double>({3}, v);
  Tensor t = *Tensor::FromVector<double>({3}, w);
  NodeSpec fwd{.op_type = "BceLoss", .domain = kOnyxDomain};
  ASSERT_OK_AND_ASSIGN(BothRuns f, RunBoth(fwd, {x, t}, /*expect_device=*/false));
  EXPECT_TRUE(AllClose<double>(f.gpu[0], f.cpu[0], 0, 0));
  // A float32 loss whose upstream gradient is float64 runs on the CPU as well.
  Tensor xf = RandomFloats({3}, 0.1f, 0.9f, 1), tf = RandomFloats({3}, 0.f, 1.f, 2);
  Tensor g64 = *Tensor::FromVector<double>({}, std::vector<double>{2.0});
  NodeSpec bwd{.op_type = "BceLossGrad", .domain = kOnyxDomain};
  ASSERT_OK_AND_ASSIGN(BothRuns b, RunBoth(bwd, {g64, xf, tf}, /*expect_device=*/false));
  EXPECT_TRUE(AllClose<float>(b.gpu[0], b.cpu[0], 0, 0));
}

}  // namespace
}  // namespace onyx::gpu_test
