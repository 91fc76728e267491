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

// One element of a small integer tensor known at load time: a fixed integer
// (negative allowed: Reshape's -1), a named symbol ("batch"), or unknown.
struct SymbolicInt {
  bool fixed = false;
  int64_t value = 0;  // when fixed
  std::string param;  // when not fixed; empty: unknown
};
using SymbolicInts = std::vector<SymbolicInt>;
SymbolicInt FixedInt(int64_t value);
// A dim as an element (unknown stays unknown) and back (negatives -> unknown).
SymbolicInt DimToInt(const Dim& dim);
Dim IntToDim(const SymbolicInt& element);

class ShapeInferenceContext {
 public:
  // `input_ints[i]` (may be shorter than inputs): the known elements of a
  // rank-0/1 integer input (see input_ints), null when unknown.
  ShapeInferenceContext(const Node& node, int64_t opset, std::vector<const TypeInfo*> inputs,
                        std::vector<const Tensor*> input_values,
                        std::vector<const SymbolicInts*> input_ints = {});

  const Node& node() const { return node_; }
  int64_t opset() const { return opset_; }
  int num_inputs() const { return static_cast<int>(inputs_.size()); }
  // Null when input i is omitted or its type is unknown.
  const TypeInfo* input(int i) const;
  // The input's value when it is a constant (initializer, Constant output or
  // folded shape), else null. Shape-like inputs (Reshape's shape) use this.
  const Tensor* input_value(int i) const;
  // The elements of a rank-0/1 integer input known at load time, each fixed or
  // symbolic: Shape of a [batch,3] value gives {batch, 3}, and Gather, Slice,
  // Concat, Unsqueeze ... of it keep what is known. Also set for constant
  // integer inputs of rank <= 1. Null when nothing is known. This is what lets
  // the Shape -> Gather -> Concat -> Reshape chains that exporters emit resolve.
  const SymbolicInts* input_ints(int i) const;
  // Records output i's type (dtype, and dims when has_shape).
  void SetOutput(int i, DataType dtype, std::vector<Dim> dims);
  void SetOutputRankUnknown(int i, DataType dtype);
  // Output i has input j's dtype and dims (elementwise ops).
  void PropagateInput(int output, int input);
  // Publishes output i's value when the ShapeFn can compute it (InferShapes
  // also folds small all-constant nodes by running their kernel, so a ShapeFn
  // needs this only for values it knows without every input being constant).
  void SetOutputValue(int i, Tensor value);
  // Publishes the elements of an integer rank-0/1 output (Shape's result); when
  // every element is fixed this also becomes a constant value (of the dtype
  // and rank SetOutput gave, int64 1-D otherwise).
  void SetOutputInts(int i, SymbolicInts elements);

  const std::vector<std::optional<TypeInfo>>& outputs() const { return outputs_; }
  const std::vector<std::optional<Tensor>>& output_values() const { return output_values_; }
  const std::vector<std::optional<SymbolicInts>>& output_ints() const { return output_ints_; }

 private:
  const Node& node_;
  int64_t opset_;
  std::vector<const TypeInfo*> inputs_;
  std::vector<const Tensor*> input_values_;
  std::vector<const SymbolicInts*> input_ints_;
  std::vector<std::optional<TypeInfo>> outputs_;
  std::vector<std::optional<Tensor>> output_values_;
  std::vector<std::optional<SymbolicInts>> output_ints_;
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

// "[batch,3,?]"
std::string DimsToString(const std::vector<Dim>& dims);
// The values when every element is fixed, else nullopt (also for null).
std::optional<std::vector<int64_t>> FixedInts(const SymbolicInts* ints);

// An unknown dim (neither fixed nor named).
Dim UnknownDim();
// True when both dims are fixed and equal, or both carry the same symbol.
bool SameDim(const Dim& a, const Dim& b);

// Infers types of every node output, in topological order, and stores those it
// learns in graph.value_info (replacing entries of the same name; where
// inference leaves a dim or the rank unknown, what the model declared is kept).
// Nodes whose inputs are all small constants are folded by running their CPU
// kernel, so chains of shape arithmetic resolve. Fails on the first node whose
// ShapeFn rejects its inputs (value_info then holds what was learned before it).
absl::Status InferShapes(Graph& graph, const OpRegistry& registry);

}  // namespace onyx
