// Graph-level reverse-mode autodiff: extends a graph with the backward nodes
// that each op's gradient builder emits, from a scalar loss to chosen values.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/graph.h"
#include "runtime/op_registry.h"

namespace onyx {

struct GradientGraph {
  Graph graph;                          // forward + backward; outputs: loss, then grads
  std::vector<std::string> grad_names;  // per `wrt` value: its gradient's name ("" if
                                        // the loss does not depend on it)
};

// Appends to `graph` the nodes computing d(loss)/d(v) for every v in `wrt` (graph
// inputs or initializers). `loss` must be a float32 scalar produced by a node.
// Gradients flowing into one value from several consumers are summed with Add.
// Unimplemented, naming the node, for an op on the path without a gradient builder.
absl::StatusOr<GradientGraph> BuildGradientGraph(Graph graph, const std::string& loss,
                                                 const std::vector<std::string>& wrt,
                                                 const OpRegistry& registry);

}  // namespace onyx
