// The part of a test graph builder that every builder shares: initializers,
// nodes and outputs, chained. A builder derives from GraphBuilderBase<Itself>
// and adds its own way of declaring inputs.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "runtime/graph.h"
#include "tests/unit/common/run_node.h"

namespace onyx::testing_util {

template <typename Self>
class GraphBuilderBase {
 public:
  Self& Init(const std::string& name, Tensor t) {
    graph_.initializers[name] = std::move(t);
    return self();
  }
  Self& Op(const std::string& op, std::vector<std::string> inputs,
           std::vector<std::string> outputs, std::vector<Attribute> attrs = {},
           const std::string& domain = "") {
    graph_.nodes.push_back(MakeNode(op, std::move(inputs), std::move(outputs), std::move(attrs),
                                    domain, graph_.nodes.size()));
    return self();
  }
  Self& Output(const std::string& name) {
    ValueInfo v;
    v.name = name;
    graph_.outputs.push_back(v);
    return self();
  }
  const Graph& graph() const { return graph_; }
  Graph& mutable_graph() { return graph_; }

 protected:
  explicit GraphBuilderBase(int64_t opset) { graph_.opset_imports[""] = opset; }
  Self& self() { return static_cast<Self&>(*this); }

  Graph graph_;
};

}  // namespace onyx::testing_util
