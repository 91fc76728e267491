// Structural validation and topological order of a graph, shared by the
// session (execution order) and autograd (reverse order).
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "runtime/graph.h"

namespace onyx {

// Node indices in an order where every producer precedes its consumers; among
// ready nodes the file order is kept. Iterative (Kahn), so deep chains are fine.
// InvalidArgument naming the node for: an input that no graph input, initializer
// or node produces; a value produced twice; a cycle; an empty graph input name.
absl::StatusOr<std::vector<int>> TopologicalOrder(const Graph& graph);

}  // namespace onyx
