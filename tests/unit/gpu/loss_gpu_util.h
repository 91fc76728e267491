// Helpers of the loss GPU tests: graphs run on the CPU or on CUDA with an
// observer that says whether every loss node (forward or backward) ran its
// CUDA kernel (a CPU fallback leaves its outputs on the host).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "tests/unit/gpu/gpu_test_util.h"

namespace onyx::gpu_test {

class LossNodeObserver final : public RunObserver {
 public:
  void OnNode(const Node& node, absl::Span<const Tensor* const>, absl::Span<const Tensor> outputs,
              std::chrono::steady_clock::time_point,
              std::chrono::steady_clock::time_point) override {
    if (!absl::EndsWith(node.op_type, "Loss") && !absl::EndsWith(node.op_type, "LossGrad")) {
      return;
    }
    ++loss_nodes;
    for (const Tensor& t : outputs) {
      if (!t.empty() && !t.on_device()) all_on_device = false;
    }
  }
  int loss_nodes = 0;
  bool all_on_device = true;
};

// Every output of `graph` run on `device`; with an observer (CUDA) it records
// where the loss nodes ran.
inline absl::StatusOr<std::vector<Tensor>> RunLossGraph(const Graph& graph,
                                                        const NamedTensors& feeds, Device device,
                                                        LossNodeObserver* observer = nullptr) {
  SessionOptions options;
  options.device = device;
  options.opt_level = 0;  // the graph as built (training graphs run so)
  if (device == Device::kCuda) {
    auto backend = cuda::CudaBackend::Create();
    if (!backend.ok()) return backend.status();
    options.backend = *backend;
  }
  auto session = Session::Create(graph, DefaultRegistry(), options);
  if (!session.ok()) return session.status();
  return (*session)->Run(feeds, observer);
}

}  // namespace onyx::gpu_test
