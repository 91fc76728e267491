// Session: a graph prepared for execution (kernels created, order and tensor
// lifetimes planned) and run as many times as needed.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "runtime/device_backend.h"
#include "runtime/graph.h"
#include "runtime/kernel.h"
#include "runtime/op_registry.h"

namespace onyx {

struct SessionOptions {
  Device device = Device::kCpu;
  int64_t max_tensor_bytes = kDefaultMaxTensorBytes;
  // Required when `device` is not kCpu (runtime/cuda/cuda_backend.h makes one);
  // nodes without a kernel for `device` run on the CPU with copies around them.
  std::shared_ptr<DeviceBackend> backend;
};

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Session {
 public:
  // Validates the graph (defined inputs, single producers, no cycles), orders it
  // and creates every kernel. Errors name the node and op.
  static absl::StatusOr<std::unique_ptr<Session>> Create(Graph graph,
                                                         const OpRegistry& registry,
                                                         SessionOptions options = {});

  // Runs with `feeds` (every FeedInputs() entry, checked against its declared
  // dtype, rank and fixed dims; symbolic dims must agree across inputs).
  // Returns the graph outputs in declaration order.
  absl::StatusOr<std::vector<Tensor>> Run(const NamedTensors& feeds);

  const Graph& graph() const { return graph_; }
  // Nodes in execution order.
  const std::vector<int>& order() const { return order_; }

 private:
  Session() = default;
  absl::Status Plan(const OpRegistry& registry);
  absl::Status CheckFeeds(const NamedTensors& feeds,
                          std::vector<Tensor>& values) const;
  // Device sessions only: the kernel for `device`, else the CPU one.
  absl::StatusOr<std::unique_ptr<Kernel>> CreateDeviceOrCpuKernel(const OpRegistry& registry,
                                                                  const Node& node,
                                                                  int64_t opset,
                                                                  bool& on_device) const;
  absl::Status UploadDeviceOnlyConstants();

  struct Step {
    int node_index;
    std::unique_ptr<Kernel> kernel;
    std::vector<int> inputs;       // value ids, -1 for omitted
    std::vector<int> outputs;      // value ids, -1 for omitted
    std::vector<int> release;      // value ids whose last use is this step
    std::vector<bool> input_dies;  // per input: released after this step
    bool on_device = false;        // runs on options_.backend (inputs moved there)
    std::unique_ptr<Kernel> cpu_kernel;  // device steps: the CPU kernel to fall back on
  };
  // Moves the step's inputs to the kernel's side and runs it into `outputs`.
  absl::Status RunStep(const Step& step, Kernel& kernel, bool on_device,
                       std::vector<Tensor>& values, std::vector<Tensor>& outputs) const;

  Graph graph_;
  SessionOptions options_;
  absl::flat_hash_map<std::string, int> value_ids_;
  std::vector<std::string> value_names_;
  std::vector<Tensor> constants_;     // by value id: initializers, empty otherwise
  std::vector<int> feed_ids_;         // value ids of FeedInputs(), same order
  std::vector<int> output_ids_;
  std::vector<int> order_;
  std::vector<Step> steps_;
};

}  // namespace onyx
