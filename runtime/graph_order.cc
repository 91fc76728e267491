// Kahn's algorithm over value names, with the structural checks it needs anyway.
#include "runtime/graph_order.h"

#include <deque>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_format.h"

namespace onyx {

absl::StatusOr<std::vector<int>> TopologicalOrder(const Graph& graph) {
  constexpr int kGraphLevel = -1;  // produced by a graph input or initializer
  absl::flat_hash_map<std::string, int> producer;
  for (const auto& [name, tensor] : graph.initializers) producer[name] = kGraphLevel;
  for (const ValueInfo& in : graph.inputs) {
    if (in.name.empty()) return absl::InvalidArgumentError("a graph input has an empty name");
    producer[in.name] = kGraphLevel;
  }
  const int num_nodes = static_cast<int>(graph.nodes.size());
  for (int n = 0; n < num_nodes; ++n) {
    const Node& node = graph.nodes[n];
    for (const std::string& out : node.outputs) {
      if (out.empty()) continue;
      auto [it, inserted] = producer.try_emplace(out, n);
      if (!inserted) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s: output \"%s\" is already produced by %s", node.Describe(), out,
            it->second >= 0 ? graph.nodes[it->second].Describe()
                            : std::string("a graph input or initializer")));
      }
    }
  }

  std::vector<std::vector<int>> consumers(num_nodes);
  std::vector<int> pending(num_nodes, 0);
  for (int n = 0; n < num_nodes; ++n) {
    const Node& node = graph.nodes[n];
    for (const std::string& in : node.inputs) {
      if (in.empty()) continue;
      auto it = producer.find(in);
      if (it == producer.end()) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s: input \"%s\" is not a graph input, initializer or node output",
            node.Describe(), in));
      }
      if (it->second >= 0) {
        consumers[it->second].push_back(n);
        ++pending[n];
      }
    }
  }
  std::vector<int> order;
  order.reserve(num_nodes);
  std::deque<int> ready;
  for (int n = 0; n < num_nodes; ++n) {
    if (pending[n] == 0) ready.push_back(n);
  }
  while (!ready.empty()) {
    const int n = ready.front();
    ready.pop_front();
    order.push_back(n);
    for (int c : consumers[n]) {
      if (--pending[c] == 0) ready.push_back(c);
    }
  }
  for (int n = 0; n < num_nodes; ++n) {
    if (pending[n] > 0) {
      return absl::InvalidArgumentError(
          absl::StrFormat("graph has a cycle through %s", graph.nodes[n].Describe()));
    }
  }
  return order;
}

}  // namespace onyx
