// Helpers of the transformer-op GPU tests (xformer_ops_gpu_test.cc,
// data_movement_gpu_test.cc): random tensors of any dtype, bit-for-bit
// comparison, and one-node graphs run on the CPU and on CUDA.
#pragma once

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "tests/unit/gpu/gpu_test_util.h"

namespace onyx::gpu_test {

using testing_util::FloatAttr;
using testing_util::IntAttr;
using testing_util::IntsAttr;
using testing_util::NodeSpec;

// Random contents of any dtype: floats in [-3, 3], bools 0/1, raw bytes otherwise.
inline Tensor RandomTensor(DataType dtype, const Shape& shape, uint32_t seed) {
  if (dtype == DataType::kFloat32) return RandomFloats(shape, -3.f, 3.f, seed);
  Tensor t = *Tensor::Zeros(dtype, shape);
  std::mt19937 rng(seed);
  const int64_t n = NumElements(shape);
  if (dtype == DataType::kFloat64) {
    std::uniform_real_distribution<double> dist(-3.0, 3.0);
    for (int64_t i = 0; i < n; ++i) t.data<double>()[i] = dist(rng);
    return t;
  }
  auto* bytes = static_cast<uint8_t*>(t.raw_data());
  const int64_t size = n * static_cast<int64_t>(DataTypeSize(dtype));
  for (int64_t i = 0; i < size; ++i) {
    bytes[i] = static_cast<uint8_t>(dtype == DataType::kBool ? rng() & 1 : rng());
  }
  return t;
}

inline Tensor Ints(const std::vector<int64_t>& v) {
  return *Tensor::FromVector<int64_t>({static_cast<int64_t>(v.size())}, v);
}

inline ::testing::AssertionResult BitsEqual(const Tensor& gpu, const Tensor& cpu) {
  if (gpu.dtype() != cpu.dtype() || gpu.shape() != cpu.shape()) {
    return ::testing::AssertionFailure() << gpu.DebugString() << " vs " << cpu.DebugString();
  }
  const size_t bytes = static_cast<size_t>(cpu.num_elements()) * DataTypeSize(cpu.dtype());
  if (bytes > 0 && std::memcmp(gpu.raw_data(), cpu.raw_data(), bytes) != 0) {
    return ::testing::AssertionFailure() << "bytes differ: " << cpu.DebugString();
  }
  return ::testing::AssertionSuccess();
}

struct BothRuns {
  std::vector<Tensor> cpu, gpu;
  bool on_device = false;  // every node ran its CUDA kernel
};

constexpr int kAllOnDevice = 1 << 20;

// The one-node graph of `spec` on a CUDA session. The first `device_inputs`
// inputs are fed as device tensors (activations made by an earlier device
// node), the rest on the host (graph inputs, shape values): host floats go to
// the device, and host integers are left to the CPU kernel.
inline absl::StatusOr<std::vector<Tensor>> RunOnCuda(const Graph& g,
                                                     const std::vector<Tensor>& inputs,
                                                     int device_inputs, bool* on_device) {
  auto backend = cuda::CudaBackend::Create();
  if (!backend.ok()) return backend.status();
  NamedTensors feeds;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].empty()) continue;
    const std::string name = testing_util::InputName(i);
    if (static_cast<int>(i) < device_inputs) {
      auto d = (*backend)->ToDevice(inputs[i]);
      if (!d.ok()) return d.status();
      feeds.emplace_back(name, *std::move(d));
    } else {
      feeds.emplace_back(name, inputs[i]);
    }
  }
  return RunGraphOnCuda(g, feeds, on_device, *backend);
}

// The graph on the CPU and on CUDA. When either fails both must (Internal
// otherwise), and the CUDA session's status is returned, so error tests check
// what the CUDA kernels report.
inline absl::StatusOr<BothRuns> RunBoth(const NodeSpec& spec, const std::vector<Tensor>& inputs,
                                        int device_inputs = kAllOnDevice) {
  const Graph g = testing_util::OneNodeGraph(spec, inputs);
  BothRuns r;
  auto cpu = RunGraph(g, testing_util::InputFeeds(inputs), Device::kCpu);
  auto gpu = RunOnCuda(g, inputs, device_inputs, &r.on_device);
  if (cpu.ok() != gpu.ok()) {
    return absl::InternalError(
        absl::StrFormat("CPU: %s; CUDA: %s", cpu.status().ToString(), gpu.status().ToString()));
  }
  if (!gpu.ok()) return gpu.status();
  r.cpu = *std::move(cpu);
  r.gpu = *std::move(gpu);
  return r;
}

inline const DataType kMoveTypes[] = {DataType::kFloat32, DataType::kInt64, DataType::kUInt8,
                                      DataType::kFloat16, DataType::kBool,  DataType::kFloat64};

}  // namespace onyx::gpu_test
