// Session: a graph prepared for execution (kernels created, order and tensor
// lifetimes planned) and run as many times as needed.
#pragma once

#include <chrono>
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
#include "runtime/tensor_pool.h"

namespace onyx {

struct SessionOptions {
  Device device = Device::kCpu;
  int64_t max_tensor_bytes = kDefaultMaxTensorBytes;
  // Required when `device` is not kCpu (runtime/cuda/cuda_backend.h makes one);
  // nodes without a kernel for `device` run on the CPU with copies around them.
  std::shared_ptr<DeviceBackend> backend;
  // Graph optimization level (runtime/passes/optimize_graph.h): 0 none,
  // 1 folding and cleanup, 2 also fusions. Training sessions use 0.
  int opt_level = 2;
  // false: plain execution (every output freshly allocated, nothing in place).
  // true: the executor recycles buffers within and across runs and lets
  // elementwise kernels write into an input that dies at their node.
  bool reuse_buffers = true;
  // Layout propagation (runtime/tensor_layout.h): kernels that opt in may pass
  // oneDNN blocked layouts to each other (conv chains); everything else still
  // sees plain tensors. CPU sessions at opt_level >= 1 only.
  bool blocked_layouts = true;
};

// Sees every node of a run as it finishes (profiling). Timing is taken only when
// an observer is given, so a plain Run pays nothing for it.
class RunObserver {
 public:
  virtual ~RunObserver() = default;
  virtual void OnNode(const Node& node, absl::Span<const Tensor* const> inputs,
                      absl::Span<const Tensor> outputs,
                      std::chrono::steady_clock::time_point start,
                      std::chrono::steady_clock::time_point end) = 0;
};

// Memory the executor holds for reuse, as of the last finished run.
struct SessionMemoryStats {
  int64_t initializer_bytes = 0;  // the model's constants
  int64_t arena_bytes = 0;        // recycled buffers kept for the next run, outputs included
  int64_t fresh_allocations = 0;  // buffers newly allocated by the last run (0 when steady)
  int64_t fresh_bytes = 0;
};

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Session {
 public:
  // Validates the graph (defined inputs, single producers, no cycles), optimizes
  // it at options.opt_level, orders it and creates every kernel. Errors name the
  // node and op.
  static absl::StatusOr<std::unique_ptr<Session>> Create(Graph graph,
                                                         const OpRegistry& registry,
                                                         SessionOptions options = {});

  // Runs with `feeds` (every FeedInputs() entry, checked against its declared
  // dtype, rank and fixed dims; symbolic dims must agree across inputs).
  // Returns the graph outputs in declaration order, on the host.
  // `observer`, when given, is told about each node as it finishes.
  // Not reentrant: one Run at a time per session (kernels cache state anyway).
  absl::StatusOr<std::vector<Tensor>> Run(const NamedTensors& feeds,
                                          RunObserver* observer = nullptr);

  // The graph as run (after optimization).
  const Graph& graph() const { return graph_; }
  // Nodes in execution order.
  const std::vector<int>& order() const { return order_; }
  const SessionMemoryStats& memory_stats() const { return memory_stats_; }

 private:
  Session() = default;
  absl::Status Plan(const OpRegistry& registry);
  absl::Status CheckFeeds(const NamedTensors& feeds);
  absl::Status RunSteps(RunObserver* observer);
  void EndRun();
  // Device sessions only: the kernel for `device`, else the CPU one.
  absl::StatusOr<std::unique_ptr<Kernel>> CreateDeviceOrCpuKernel(const OpRegistry& registry,
                                                                  const Node& node,
                                                                  int64_t opset,
                                                                  bool& on_device) const;
  absl::Status UploadDeviceOnlyConstants();

  struct Step {
    const Node* node;
    std::unique_ptr<Kernel> kernel;
    std::vector<int> inputs;       // value ids, -1 for omitted
    std::vector<int> outputs;      // value ids, -1 for omitted
    std::vector<int> release;      // non-constant value ids whose last use is this step
    std::unique_ptr<bool[]> input_dies;  // per input: released after this step
    // Per-run scratch, kept so that a run allocates no vectors per node.
    std::vector<const Tensor*> input_ptrs;
    std::vector<Tensor> output_tensors;
    bool on_device = false;        // runs on options_.backend (inputs moved there)
    bool accepts_blocked = false;  // kernel->AcceptsBlockedInputs()
    std::unique_ptr<Kernel> cpu_kernel;  // device steps: the CPU kernel to fall back on
  };
  // Device sessions: moves the step's inputs to the side it runs on, then fills
  // step.input_ptrs.
  absl::Status PlaceInputs(Step& step, bool on_device);
  // Runs `kernel` on the step's inputs into step.output_tensors.
  absl::Status ComputeStep(Step& step, Kernel& kernel, bool on_device);
  // Replaces a blocked value by its plain copy (runtime/tensor_layout.h).
  absl::Status MakePlain(Tensor& value);
  // Drops `tensor`, handing host buffers to the pool when reusing buffers.
  void Recycle(Tensor& tensor);

  Graph graph_;
  SessionOptions options_;
  absl::flat_hash_map<std::string, int> value_ids_;
  std::vector<std::string> value_names_;
  std::vector<Tensor> constants_;     // by value id: initializers, empty otherwise
  std::vector<int> feed_ids_;         // value ids of FeedInputs(), same order
  std::vector<int> output_ids_;
  std::vector<int> order_;
  std::vector<Step> steps_;
  // Run state: values by id (constants are read from constants_ directly).
  std::vector<Tensor> values_;
  std::vector<bool> is_constant_;
  bool blocked_layouts_ = false;  // options_.blocked_layouts, where it applies
  TensorPool pool_;
  std::vector<Tensor> last_outputs_;  // recycled at the next run if the caller let go
  SessionMemoryStats memory_stats_;
};

}  // namespace onyx
