// Attribute/axes handling shared by the Reduce* kernels, their backward op and
// their shape functions: which axes a node reduces (attribute `axes` before
// opset 13 for ReduceSum and 18 for the others, input 1 from then on),
// keepdims, noop_with_empty_axes, and the resulting output shape.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/graph.h"
#include "runtime/op_registry.h"
#include "runtime/tensor.h"

namespace onyx::reduce {

struct ReduceAttrs {
  bool axes_from_input = false;  // opset >= 13 (ReduceSum) / 18 (the others)
  std::vector<int64_t> attr_axes;
  bool keepdims = true;
  bool noop_with_empty_axes = false;
};

// Reads the attributes of Reduce* node `node` (op type `op`, model opset `opset`).
absl::StatusOr<ReduceAttrs> ParseReduceAttrs(const Node& node, const std::string& op,
                                             int64_t opset);

// The raw axes: the attribute, or the int64 values of `axes_input` (null: none given).
absl::StatusOr<std::vector<int64_t>> RawAxes(const Node& node, const ReduceAttrs& attrs,
                                             const Tensor* axes_input);

// Per dim of a rank-`rank` input: is it reduced. No axes reduces every dim
// unless noop_with_empty_axes (then none). InvalidArgument on an out-of-range
// or repeated axis.
absl::StatusOr<std::vector<bool>> ReducedMask(const Node& node, const ReduceAttrs& attrs,
                                              const std::vector<int64_t>& axes, int rank);

// Output shape: reduced dims become 1 (keepdims) or vanish.
Shape ReducedShape(const Shape& x, const std::vector<bool>& mask, bool keepdims);

// Registration hooks.
void RegisterReduceKernels(OpRegistry& registry);    // reduce_cpu.cc
void RegisterArgKernels(OpRegistry& registry);       // arg_cpu.cc
void RegisterReduceGradients(OpRegistry& registry);  // reduce_grad.cc (+ ReduceGrad)
void RegisterReduceShapeFns(OpRegistry& registry);   // reduce_shape.cc

}  // namespace onyx::reduce
