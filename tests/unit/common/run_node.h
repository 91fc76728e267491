// Test helpers shared by the unit tests: attributes, graph inputs, and graphs
// of one node run through a Session. The bodies live in run_node.cc so that
// no includer inlines their string building (GCC 12 -O3 reports a false
// -Wrestrict in inlined std::string concatenation).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ops/register_all.h"
#include "runtime/graph.h"
#include "runtime/op_registry.h"
#include "runtime/session.h"
#include "runtime/tensor.h"

namespace onyx::testing_util {

Attribute IntAttr(std::string name, int64_t v);
Attribute FloatAttr(std::string name, float v);
Attribute StringAttr(std::string name, std::string v);
Attribute IntsAttr(std::string name, std::vector<int64_t> v);
Attribute FloatsAttr(std::string name, std::vector<float> v);
Attribute TensorAttr(std::string name, Tensor t);

// A node named "<op>_<index>" (graph builders pass the node count as index).
Node MakeNode(const std::string& op, std::vector<std::string> inputs,
              std::vector<std::string> outputs, std::vector<Attribute> attrs,
              const std::string& domain, size_t index);

// A graph input `name` of `dtype` with the fixed dims `shape`.
ValueInfo InputInfo(const std::string& name, DataType dtype, const Shape& shape);
// The same with `t`'s dtype and shape.
ValueInfo InputInfo(const std::string& name, const Tensor& t);

// Name of graph input i: "x<i>".
std::string InputName(size_t i);

// prefix0, prefix1, ..., prefix<n-1>.
std::vector<std::string> NumberedNames(const std::string& prefix, int n);

// One node over graph inputs x0, x1, ... (an empty Tensor is an omitted input).
struct NodeSpec {
  std::string op_type;
  std::string domain = "";                   // the node's; imported at version 1 unless ONNX
  std::vector<Attribute> attrs = {};
  int64_t opset = 13;                        // ONNX opset imported
  std::string node_name = "n0";              // error messages name it
  std::vector<std::string> outputs = {"y"};  // graph outputs; "" leaves one out
  std::vector<std::string> imports = {};     // more domains imported at version 1
  std::string graph_name = "";
};

// The graph of `spec`: inputs declared with the fixed shapes of `inputs`.
Graph OneNodeGraph(const NodeSpec& spec, const std::vector<Tensor>& inputs);

// Feeds x<i> = inputs[i] for every non-empty input.
NamedTensors InputFeeds(const std::vector<Tensor>& inputs);

// Runs the graph of `spec` on `inputs`; every output of the graph.
absl::StatusOr<std::vector<Tensor>> RunNodeSpec(const NodeSpec& spec,
                                                const std::vector<Tensor>& inputs,
                                                const OpRegistry& registry = DefaultRegistry());

// The first output of RunNodeSpec.
absl::StatusOr<Tensor> RunNodeSpecFirst(const NodeSpec& spec, const std::vector<Tensor>& inputs,
                                        const OpRegistry& registry = DefaultRegistry());

// A graph "one_node" with one node `op_type` named "n0" over inputs x0, x1, ...
// and output "y"; `domain` other than ONNX's is imported at version 1 besides
// ONNX at `opset`.
Graph OneNodeGraph(const std::string& op_type, std::vector<Attribute> attrs,
                   const std::vector<Tensor>& inputs, int64_t opset,
                   const std::string& domain = "");

// Runs OneNodeGraph with the default registry; its output "y".
absl::StatusOr<Tensor> RunOneNode(const std::string& op_type, std::vector<Attribute> attrs,
                                  const std::vector<Tensor>& inputs, int64_t opset,
                                  const std::string& domain = "");

// Element i of `t` as a double (real dtypes; 0 for others).
double ElementAsDouble(const Tensor& t, int64_t i);
// Every element of `t` as a double.
std::vector<double> ToDoubles(const Tensor& t);

// Row-major multi-index of `linear` in `shape`.
std::vector<int64_t> Unravel(int64_t linear, const Shape& shape);

// The NumPy broadcast of shapes `a` and `b` (right-aligned; a 1 takes the other's dim).
Shape BroadcastShape(const Shape& a, const Shape& b);

// Linear index into `shape` of the element that NumPy broadcasting reads at
// output multi-index `index` (right-aligned; size-1 dims read index 0).
int64_t BroadcastSource(const std::vector<int64_t>& index, const Shape& shape);

}  // namespace onyx::testing_util
