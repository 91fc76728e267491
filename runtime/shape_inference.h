// Static shape and type inference: each op may register a ShapeFn that, from
// its inputs' types (dtype + dims, possibly symbolic) and any constant input
// values, gives its outputs' types. InferShapes walks a graph in order and
// fills Graph::value_info, so `onyx info` can show every value and a model
// whose shapes cannot fit fails at load with the node named.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "runtime/graph.h"
#include "runtime/tensor.h"

namespace onyx {

class OpRegistry;

// What is known statically of one value. has_shape false: rank unknown.
using TypeInfo = ValueInfo;  // name unused here

class ShapeInferenceContext {
 public:
  ShapeInferenceContext(const Node& node, int64_t opset, std::vector<const TypeInfo*> inputs,
                        std::vector<const Tensor*> input_values);

  const Node& node() const { return node_; }
  int64_t opset() const { return opset_; }
  int num_inputs() const { return static_cast<int>(inputs_.size()); }
  // Null when input i is omitted or its type is unknown.
  const TypeInfo* input(int i) const;
  // The input's value when it is a constant (initializer, Constant output or
  // folded shape), else null. Shape-like inputs (Reshape's shape) use this.
  const Tensor* input_value(int i) const;
  // Records output i's type (dtype, and dims when has_shape).
  void SetOutput(int i, DataType dtype, std::vector<Dim> dims);
  void SetOutputRankUnknown(int i, DataType dtype);
  // Output i has input j's dtype and dims (elementwise ops).
  void PropagateInput(int output, int input);

  const std::vector<std::optional<TypeInfo>>& outputs() const { return outputs_; }

 private:
  const Node& node_;
  int64_t opset_;
  std::vector<const TypeInfo*> inputs_;
  std::vector<const Tensor*> input_values_;
  std::vector<std::optional<TypeInfo>> outputs_;
};

// Returns InvalidArgument naming the node (node.Describe()) when the inputs
// cannot be valid for the op (e.g. MatMul with K 3 vs 4); leaves outputs it
// cannot tell unset (inference then stops for values that depend on them).
using ShapeFn = std::function<absl::Status(ShapeInferenceContext& ctx)>;

// Dims helpers for ShapeFns.
Dim FixedDim(int64_t value);
// NumPy broadcasting of two dim lists; InvalidArgument on a fixed mismatch.
absl::StatusOr<std::vector<Dim>> BroadcastDims(const std::vector<Dim>& a,
                                               const std::vector<Dim>& b);

// Infers types of every node output, in topological order, and stores those it
// learns in graph.value_info (replacing entries of the same name, keeping what
// the model declared when inference learns nothing). Fails on the first node
// whose ShapeFn rejects its inputs.
absl::Status InferShapes(Graph& graph, const OpRegistry& registry);

}  // namespace onyx
