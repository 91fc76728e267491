// GPU test helpers: a fixture that skips (naming the reason) when no GPU is
// present, one-node graphs run on the CPU and on CUDA, and a tolerant compare.
#pragma once

#include <chrono>
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ops/register_all.h"
#include "runtime/cuda/cuda_backend.h"
#include "runtime/session.h"
#include "tests/status_matchers.h"
#include "tests/unit/common/run_node.h"

namespace onyx::gpu_test {

class GpuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (cuda::DeviceCount() == 0) GTEST_SKIP() << "skipped: " << cuda::NoDeviceReason();
  }
};

template <typename P>
class GpuParamTest : public ::testing::TestWithParam<P> {
 protected:
  void SetUp() override {
    if (cuda::DeviceCount() == 0) GTEST_SKIP() << "skipped: " << cuda::NoDeviceReason();
  }
};

inline absl::StatusOr<std::vector<Tensor>> RunGraph(const Graph& graph, const NamedTensors& feeds,
                                                    Device device) {
  SessionOptions options;
  options.device = device;
  if (device == Device::kCuda) {
    auto backend = cuda::CudaBackend::Create();
    if (!backend.ok()) return backend.status();
    options.backend = *backend;
  }
  auto session = Session::Create(graph, DefaultRegistry(), options);
  if (!session.ok()) return session.status();
  return (*session)->Run(feeds);
}

// Runs a one-node graph (inputs x0, x1, ...) on `device`; returns output "y".
inline absl::StatusOr<Tensor> RunNode(const std::string& op, std::vector<Attribute> attrs,
                                      const std::vector<Tensor>& inputs, int64_t opset,
                                      Device device, const std::string& domain = "") {
  const Graph g = testing_util::OneNodeGraph(op, std::move(attrs), inputs, opset, domain);
  auto out = RunGraph(g, testing_util::InputFeeds(inputs), device);
  if (!out.ok()) return out.status();
  return (*out)[0];
}

// Whether every node of a run left its first output on the device: true only
// when each ran its CUDA kernel (a CPU fallback leaves host outputs).
class DeviceOutputObserver final : public RunObserver {
 public:
  void OnNode(const Node&, absl::Span<const Tensor* const>, absl::Span<const Tensor> outputs,
              std::chrono::steady_clock::time_point, std::chrono::steady_clock::time_point) override {
    ++nodes;
    if (outputs.empty() || !outputs[0].on_device()) all_on_device = false;
  }
  int nodes = 0;
  bool all_on_device = true;
};

// Runs `graph` on a fresh CUDA session (over `backend`, or a new one: feeds
// already on the device need the backend that made them); every output, and in
// `on_device` whether every node ran its CUDA kernel.
inline absl::StatusOr<std::vector<Tensor>> RunGraphOnCuda(
    const Graph& graph, const NamedTensors& feeds, bool* on_device,
    std::shared_ptr<cuda::CudaBackend> backend = nullptr) {
  if (backend == nullptr) {
    auto created = cuda::CudaBackend::Create();
    if (!created.ok()) return created.status();
    backend = *std::move(created);
  }
  SessionOptions options;
  options.device = Device::kCuda;
  options.backend = backend;
  auto session = Session::Create(graph, DefaultRegistry(), options);
  if (!session.ok()) return session.status();
  DeviceOutputObserver observer;
  auto out = (*session)->Run(feeds, &observer);
  *on_device = observer.nodes > 0 && observer.all_on_device;
  return out;
}

// Pseudo-random floats in [lo, hi], seeded.
inline Tensor RandomFloats(const Shape& shape, float lo, float hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(NumElements(shape));
  for (float& x : v) x = dist(rng);
  return *Tensor::FromVector<float>(shape, v);
}

// |a - b| <= atol + rtol * |b| elementwise; NaNs and infinities must match.
template <typename T>
::testing::AssertionResult AllClose(const Tensor& a, const Tensor& b, double rtol, double atol) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) {
    return ::testing::AssertionFailure() << a.DebugString() << " vs " << b.DebugString();
  }
  int bad = 0;
  ::testing::AssertionResult result = ::testing::AssertionSuccess();
  for (int64_t i = 0; i < a.num_elements(); ++i) {
    const double x = a.data<T>()[i], y = b.data<T>()[i];
    const bool ok = (std::isnan(x) && std::isnan(y)) || x == y ||
                    std::fabs(x - y) <= atol + rtol * std::fabs(y);
    if (!ok && bad++ < 5) {
      result = ::testing::AssertionFailure();
      result << "[" << i << "] cuda " << x << " vs cpu " << y << "; ";
    }
  }
  if (bad > 0) result << bad << " of " << a.num_elements() << " elements differ";
  return result;
}

}  // namespace onyx::gpu_test
