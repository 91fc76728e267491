// Session: a graph prepared for execution (kernels created, order and tensor
// lifetimes planned) and run as many times as needed.
#pragma once

#include <chrono>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "runtime/device_backend.h"
#include "runtime/graph.h"
#include "runtime/kernel.h"
#include "runtime/memory_account.h"
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
  // Cap on the bytes of all tensors alive at once in a run (initializers, feeds
  // and intermediates); the default is no cap (and no accounting cost).
  int64_t max_memory_bytes = std::numeric_limits<int64_t>::max();
  // Device sessions: graph outputs that Run returns on the device (moved there
  // when a CPU kernel made them) instead of copying them to the host, for a
  // caller that goes on computing there (the trainer's gradients). Names must
  // be graph outputs. Feeds may be device tensors in any device session.
  std::vector<std::string> device_outputs;
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
  // True: the session waits for each device node to finish before OnNode, so
  // start..end is its device time (a profile); the run is slower for it.
  virtual bool WantsDeviceTime() const { return false; }
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
  // Returns the graph outputs in declaration order, on the host (those named in
  // SessionOptions::device_outputs on the device).
  // `observer`, when given, is told about each node as it finishes.
  // Safe to call from several threads at once (same results as serial runs):
  // each run has its own values and buffer pool, each kernel is locked while it
  // computes, and device sessions run one at a time. `observer` is called from
  // the running thread.
  absl::StatusOr<std::vector<Tensor>> Run(const NamedTensors& feeds,
                                          RunObserver* observer = nullptr);

  // The graph as run (after optimization).
  const Graph& graph() const { return graph_; }
  // Nodes in execution order.
  const std::vector<int>& order() const { return order_; }
  // As of the last finished run (of any thread).
  SessionMemoryStats memory_stats() const;

 private:
  Session() = default;
  absl::Status Plan(const OpRegistry& registry);
  // Everything one run mutates. An idle one is reused by the next run (so a
  // single-threaded caller allocates none); concurrent runs get their own.
  struct RunState {
    std::vector<Tensor> values;  // by value id (constants are read from constants_)
    // Per-step scratch, flat (Step::first_input / first_output index into them),
    // kept so that a run allocates no vectors per node.
    std::vector<const Tensor*> input_ptrs;
    std::vector<Tensor> output_tensors;
    TensorPool pool;
    std::vector<Tensor> last_outputs;  // recycled at the state's next run if the caller let go
    MemoryAccount account;  // live buffers, kept only when max_memory_bytes is set
  };
  std::unique_ptr<RunState> AcquireRunState();
  void ReleaseRunState(std::unique_ptr<RunState> state);
  absl::StatusOr<std::vector<Tensor>> RunWith(RunState& state, const NamedTensors& feeds,
                                              RunObserver* observer);
  absl::Status CheckFeeds(const NamedTensors& feeds, RunState& state);
  absl::Status RunSteps(RunState& state, RunObserver* observer);
  void EndRun(RunState& state);
  bool budgeted() const;  // max_memory_bytes is set
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
    int first_input = 0;   // this step's slots in RunState::input_ptrs
    int first_output = 0;  // and RunState::output_tensors
    bool on_device = false;        // runs on options_.backend (inputs moved there)
    bool accepts_blocked = false;  // kernel->AcceptsBlockedInputs()
    std::unique_ptr<Kernel> cpu_kernel;  // device steps: the CPU kernel to fall back on
    // Held around Compute: kernels cache per-shape state (oneDNN primitives,
    // memories, scratch), so one kernel never computes for two runs at once.
    std::unique_ptr<std::mutex> kernel_lock = std::make_unique<std::mutex>();
  };
  // Device sessions: moves the step's inputs to the side `kernel` reads them on
  // (a device kernel's Kernel::input_memory), then fills step.input_ptrs.
  absl::Status PlaceInputs(RunState& state, const Step& step, const Kernel& kernel,
                           bool on_device);
  // Runs `kernel` on the step's inputs into the step's output slots; new
  // outputs are charged to `memory_left` when given.
  absl::Status ComputeStep(RunState& state, const Step& step, Kernel& kernel, bool on_device,
                           int64_t* memory_left);
  // Replaces a blocked value by its plain copy (runtime/tensor_layout.h).
  absl::Status MakePlain(RunState& state, Tensor& value);
  // Drops `tensor`, handing host buffers to the pool when reusing buffers.
  void Recycle(RunState& state, Tensor& tensor);

  Graph graph_;
  SessionOptions options_;
  absl::flat_hash_map<std::string, int> value_ids_;
  std::vector<std::string> value_names_;
  std::vector<Tensor> constants_;     // by value id: initializers, empty otherwise
  std::vector<int> feed_ids_;         // value ids of FeedInputs(), same order
  std::vector<int> output_ids_;
  std::vector<bool> output_on_device_;  // per graph output: SessionOptions::device_outputs
  std::vector<int> order_;
  std::vector<Step> steps_;
  std::vector<bool> is_constant_;
  bool blocked_layouts_ = false;  // options_.blocked_layouts, where it applies
  int num_input_slots_ = 0;
  int num_output_slots_ = 0;

  mutable std::mutex states_mu_;  // guards idle_states_ and memory_stats_
  std::vector<std::unique_ptr<RunState>> idle_states_;
  SessionMemoryStats memory_stats_;
  // Device sessions: one run at a time (one stream, the backend's allocator).
  std::mutex device_run_mu_;
};

}  // namespace onyx
