// Session: a graph prepared for execution (kernels created, order and tensor
// lifetimes planned) and run as many times as needed.
#pragma once

#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "runtime/graph.h"
#include "runtime/kernel.h"
#include "runtime/op_registry.h"

namespace onyx {

struct SessionOptions {
  Device device = Device::kCpu;
  int64_t max_tensor_bytes = kDefaultMaxTensorBytes;
  // Cap on the bytes of all tensors alive at once in a run (initializers, feeds
  // and intermediates); the default is no cap (and no accounting cost).
  int64_t max_memory_bytes = std::numeric_limits<int64_t>::max();
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
  // Returns the graph outputs in declaration order. Safe to call from several
  // threads at once: each kernel is locked while it computes.
  absl::StatusOr<std::vector<Tensor>> Run(const NamedTensors& feeds);

  const Graph& graph() const { return graph_; }
  // Nodes in execution order.
  const std::vector<int>& order() const { return order_; }

 private:
  Session() = default;
  absl::Status Plan(const OpRegistry& registry);
  absl::Status CheckFeeds(const NamedTensors& feeds,
                          std::vector<Tensor>& values) const;

  struct Step {
    int node_index;
    std::unique_ptr<Kernel> kernel;
    std::vector<int> inputs;       // value ids, -1 for omitted
    std::vector<int> outputs;      // value ids, -1 for omitted
    std::vector<int> release;      // value ids whose last use is this step
    std::vector<bool> input_dies;  // per input: released after this step
    std::unique_ptr<std::mutex> kernel_lock = std::make_unique<std::mutex>();
  };

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
